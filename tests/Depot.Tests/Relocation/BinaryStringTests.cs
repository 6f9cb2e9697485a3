using System.Text;
using Depot.Archive;
using Depot.Relocation;

namespace Depot.Tests.Relocation;

/// <summary>
/// relocation.md §4.3 step 2: prefixes embedded in binaries keep every string's length. A shorter new prefix is padded
/// with leading '/' or, for a C string ending within 7 bytes, written as new + suffix + NUL when it shrinks by more
/// than 7; a longer one is never written and is reported naming the file.
/// </summary>
public sealed class BinaryStringTests : IDisposable
{
    private const string Old = "/build/root/__spack_path_placeholder__/pkg-1.0-abcdefg";
    private const string New = "/sw/pkg-1.0-abcdefg";

    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static PrefixMap Map(params (string Old, string New)[] pairs)
    {
        var map = new PrefixMap();
        foreach (var (old, @new) in pairs)
        {
            map.Add(old, @new);
        }

        return map;
    }

    private static (byte[] Data, IReadOnlyList<string> Problems, bool Modified) Relocate(string text, PrefixMap map)
    {
        var data = Encoding.Latin1.GetBytes(text);
        var problems = BinaryRelocator.RelocateInPlace(data, map, out var modified);
        return (data, problems, modified);
    }

    [Fact]
    public void ALongSuffixIsKeptAndTheStringPaddedWithLeadingSlashesToItsExactLength()
    {
        var (data, problems, modified) = Relocate("\0\u0001" + Old + "/share/pkg/data\0\u0002", Map((Old, New)));

        Assert.Empty(problems);
        Assert.True(modified);
        var padding = new string('/', Old.Length - New.Length);
        Assert.Equal("\0\u0001" + padding + New + "/share/pkg/data\0\u0002", Encoding.Latin1.GetString(data));
    }

    [Fact]
    public void AStringWithNoNulWithinSevenBytesIsPaddedToo()
    {
        // Not known to be a C string ending here (say, a prefix inside a longer constant): padding is the safe choice.
        var (data, problems, _) = Relocate(Old + "/lib/libpkg.so.1.2.3 more text", Map((Old, New)));

        Assert.Empty(problems);
        Assert.Equal(new string('/', Old.Length - New.Length) + New + "/lib/libpkg.so.1.2.3 more text",
            Encoding.Latin1.GetString(data));
    }

    [Fact]
    public void ACStringEndingSoonIsShortenedWithItsSuffixAndTheOldTailStaysBehindTheNul()
    {
        // The new prefix ends differently (a renamed package), so the old tail cannot be kept by padding.
        const string Renamed = "/sw/pkg-1.0-renamed";
        var (data, problems, _) = Relocate("A" + Old + "/lib\0B" + Old + "\0C", Map((Old, Renamed)));

        Assert.Empty(problems);
        // new + suffix + NUL at the string's start; the bytes after the new NUL keep their old content.
        var first = Renamed + "/lib\0" + (Old + "/lib\0")[(Renamed.Length + 5)..];
        var second = Renamed + "\0" + (Old + "\0")[(Renamed.Length + 1)..];
        Assert.Equal("A" + first + "B" + second + "C", Encoding.Latin1.GetString(data));
    }

    [Fact]
    public void EveryOccurrenceIsRewrittenAndTheLengthNeverChanges()
    {
        var text = string.Concat(Enumerable.Repeat(Old + "/share/data/file\0", 5));
        var (data, problems, _) = Relocate(text, Map((Old, New)));

        Assert.Empty(problems);
        Assert.Equal(text.Length, data.Length);
        Assert.Equal(5, Encoding.Latin1.GetString(data).Split(New + "/share/data/file\0").Length - 1);
        Assert.DoesNotContain(Old, Encoding.Latin1.GetString(data), StringComparison.Ordinal);
    }

    [Fact]
    public void ACStringThatWouldLoseItsSuffixIsReportedAndLeftAsItWas()
    {
        // Shrinks by 4 (≤ 7) with a 4-byte suffix: Spack cannot keep seven bytes of tail in place.
        var text = "/build/root/pkg-xy/lib\0";
        var (data, problems, modified) = Relocate(text, Map(("/build/root/pkg-xy", "/sw/pkg-xy-abc")));

        Assert.False(modified);
        Assert.Equal("C string '/build/root/pkg-xy/lib' at offset 0 cannot shrink by 4 bytes and keep its suffix",
            Assert.Single(problems));
        Assert.Equal(text, Encoding.Latin1.GetString(data));
    }

    [Fact]
    public void ASmallShrinkIsPaddedWhenOldAndNewShareTheTailThatStays()
    {
        // Shrinks by 5 with suffix "/lib": the last 3 bytes of both prefixes ("abc") are the same, so padding keeps
        // the 7 bytes before the NUL as they were.
        var (data, problems, _) = Relocate("/opt/xx/pkg-abc/lib\0", Map(("/opt/xx/pkg-abc", "/o/pkg-abc")));

        Assert.Empty(problems);
        Assert.Equal("/////" + "/o/pkg-abc/lib\0", Encoding.Latin1.GetString(data));
    }

    [Fact]
    public void TheEarlierPairWinsWhereTwoOldPrefixesMatchAtOnePlace()
    {
        const string Root = "/build/root/__spack_path_placeholder__";
        var (data, _, _) = Relocate(Old + "/share/data/file\0" + Root + "/other/share\0",
            Map((Old, "/sw/p"), (Root, "/elsewhere")));

        var text = Encoding.Latin1.GetString(data);
        Assert.StartsWith(new string('/', Old.Length - 5) + "/sw/p/share/data/file\0", text, StringComparison.Ordinal);
        Assert.EndsWith(new string('/', Root.Length - 10) + "/elsewhere/other/share\0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALongerNewPrefixIsRefusedNamingTheFileAndTheFileIsUntouched()
    {
        var prefix = temp.Combine("prefix");
        Directory.CreateDirectory(Path.Combine(prefix, "lib"));
        var content = Encoding.Latin1.GetBytes("\u007fELF-not-really\0/b/pkg/share/pkg/data\0tail");
        File.WriteAllBytes(Path.Combine(prefix, "lib", "libpkg.so"), content);
        var info = new BuildInfo("", "/b", "", "", [], ["lib/libpkg.so"], [], []);

        var report = await PackageRelocator.RelocateAsync(prefix, info, Map(("/b/pkg", "/a/longer/pkg")), null,
            "pkg.tar.gz", Token);

        Assert.Equal("lib/libpkg.so: string '/b/pkg/share/pkg/data' at offset 16 cannot grow from 6 to 13 bytes",
            Assert.Single(report.Problems));
        Assert.Equal(0, report.FilesChanged);
        Assert.Equal(["lib/libpkg.so"], report.Leftovers); // it still names the old prefix
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(prefix, "lib", "libpkg.so")));
    }

    [Fact]
    public async Task ABinaryIsPatchedInPlaceSoHardLinksShareTheChangeAndModesStay()
    {
        var prefix = temp.Combine("prefix");
        Directory.CreateDirectory(Path.Combine(prefix, "lib"));
        var library = Path.Combine(prefix, "lib", "libpkg.so.1");
        File.WriteAllBytes(library, Encoding.Latin1.GetBytes("\u007fELF\0" + Old + "/share/pkg/data\0"));
        File.SetUnixFileMode(library, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead);
        var hardLink = Path.Combine(prefix, "lib", "libpkg.so");
        using (var ln = System.Diagnostics.Process.Start("ln", [library, hardLink]))
        {
            await ln.WaitForExitAsync(Token);
            Assert.Equal(0, ln.ExitCode);
        }

        var info = new BuildInfo("", "/build/root", "", "", [], ["lib/libpkg.so.1"], [], []);

        var report = await PackageRelocator.RelocateAsync(prefix, info, Map((Old, New)), null, "pkg.tar.gz", Token);

        Assert.Equal(1, report.FilesChanged);
        Assert.Empty(report.Problems);
        Assert.Empty(report.Leftovers);
        var expected = "\u007fELF\0" + new string('/', Old.Length - New.Length) + New + "/share/pkg/data\0";
        Assert.Equal(expected, Encoding.Latin1.GetString(File.ReadAllBytes(hardLink)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead,
            File.GetUnixFileMode(library)); // made writable for the patch only
    }
}
