using System.Text;
using Depot.Archive;
using Depot.Relocation;

namespace Depot.Tests.Relocation;

/// <summary>
/// relocation.md §4.2: text files are rewritten with Spack's byte regex
/// <c>(?&lt;![\w\-_/])([\w\-_]*?)(OLD1|OLD2|…)([\w\-_/]*)</c>, left to right, the first listed old prefix winning where
/// several match; the file may change length and keeps its inode.
/// </summary>
public sealed class TextRelocationTests : IDisposable
{
    private const string OldRoot = "/build/spack/opt/spack/__spack_path_placeholder__";
    private const string OldPackage = OldRoot + "/linux-x86_64/pkg-1.0-abcdefg";

    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static PrefixMap Map() => Map((OldPackage, "/sw/pkg-1.0-abcdefg"), (OldRoot, "/sw"));

    private static PrefixMap Map(params (string Old, string New)[] pairs)
    {
        var map = new PrefixMap();
        foreach (var (old, @new) in pairs)
        {
            map.Add(old, @new);
        }

        return map;
    }

    private static string? Relocate(string text, PrefixMap map) =>
        TextRelocator.Relocate(Encoding.UTF8.GetBytes(text), map) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    [Fact]
    public void EveryOccurrenceIsReplacedAndTheTextChangesLength()
    {
        var text =
            $"prefix={OldPackage}\nlibdir={OldPackage}/lib\nLibs: -L{OldPackage}/lib -Wl,-rpath,{OldPackage}/lib\n";

        var relocated = Relocate(text, Map());

        Assert.Equal("prefix=/sw/pkg-1.0-abcdefg\nlibdir=/sw/pkg-1.0-abcdefg/lib\n"
            + "Libs: -L/sw/pkg-1.0-abcdefg/lib -Wl,-rpath,/sw/pkg-1.0-abcdefg/lib\n", relocated);
        Assert.Null(Relocate("nothing to relocate here /usr/lib\n", Map()));
    }

    [Fact]
    public void TheFirstListedPrefixWinsWhichSpacksOrderMakesTheLongest()
    {
        // The package comes before the root it lives in: its own new prefix is used, not the root's.
        Assert.Equal("/sw/pkg-1.0-abcdefg/bin", Relocate(OldPackage + "/bin", Map()));
        Assert.Equal("/sw/linux-x86_64/other-2.0-xyz/bin",
            Relocate(OldRoot + "/linux-x86_64/other-2.0-xyz/bin", Map()));

        // Order, not length, decides: listed the other way round, the root's pair takes the package's path too.
        var reversed = Map((OldRoot, "/elsewhere"), (OldPackage, "/sw/pkg-1.0-abcdefg"));
        Assert.Equal("/elsewhere/linux-x86_64/pkg-1.0-abcdefg/bin", Relocate(OldPackage + "/bin", reversed));
    }

    [Theory]
    [InlineData("{0}", "{1}")] // at the very start
    [InlineData("x={0}", "x={1}")]
    [InlineData("-I{0}/include", "-I{1}/include")] // a word run before the prefix counts
    [InlineData("some_word-{0}", "some_word-{1}")]
    [InlineData("\"{0}\"", "\"{1}\"")]
    [InlineData("/home{0}", "/home{0}")] // a word run that follows '/' does not
    [InlineData("//{0}", "//{0}")]
    [InlineData("{0}/{0}", "{1}/{0}")] // the rest of a path is swallowed: a prefix inside it is not matched again
    [InlineData("{0}:{0}", "{1}:{1}")] // ':' ends the path
    [InlineData("{0}-suffix/lib", "{1}-suffix/lib")]
    public void BoundariesFollowSpacksRegex(string template, string expected)
    {
        var map = Map(("/old/root", "/new/longer/root"));
        var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, "/old/root");
        var result = string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, "/old/root",
            "/new/longer/root");

        Assert.Equal(result, Relocate(text, map) ?? text);
    }

    [Fact]
    public void BinaryLookingTextIsRelocatedByteForByte()
    {
        // Latin-1 bytes, NULs and invalid UTF-8 around the prefix: bytes are bytes, and Python's bytes \w is ASCII,
        // so a non-ASCII byte before the prefix is a boundary.
        byte[] data = [0xe9, .. "/old/root/lib\0"u8, 0xff, 0xfe, .. "/old/root\n"u8, 0xc3, 0xa9, .. "/old/root"u8];

        var relocated = TextRelocator.Relocate(data, Map(("/old/root", "/n")));

        byte[] expected = [0xe9, .. "/n/lib\0"u8, 0xff, 0xfe, .. "/n\n"u8, 0xc3, 0xa9, .. "/n"u8];
        Assert.Equal(expected, relocated);
    }

    [Fact]
    public void AMentionTheRegexSkipsIsAnOldPrefixLeftOverButANewPrefixStartingWithTheOldIsNot()
    {
        var map = Map(("/opt/a", "/opt/a-relocated"));
        Assert.True(TextRelocator.MentionsOld("see /home/opt/a/lib"u8, map));
        Assert.False(TextRelocator.MentionsOld("see /opt/a-relocated/lib"u8, map));
        Assert.False(TextRelocator.MentionsOld("nothing"u8, map));
    }

    [Fact]
    public async Task AListedTextFileIsRewrittenInPlaceKeepingItsInodeAndMode()
    {
        var prefix = temp.Combine("prefix");
        Directory.CreateDirectory(Path.Combine(prefix, "lib", "pkgconfig"));
        var pc = Path.Combine(prefix, "lib", "pkgconfig", "pkg.pc");
        File.WriteAllText(pc, $"prefix={OldPackage}\nincludedir=/home{OldRoot}/include\n");
        File.SetUnixFileMode(pc, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        var other = Path.Combine(prefix, "lib", "pkgconfig", "same.pc");
        using (var ln = System.Diagnostics.Process.Start("ln", [pc, other]))
        {
            await ln.WaitForExitAsync(Token);
        }

        // Listed but absent (even its folder): nothing to relocate.
        var info = new BuildInfo("", OldRoot, "", "", [], [], [], ["lib/pkgconfig/pkg.pc", "share/absent.txt"]);

        var report = await PackageRelocator.RelocateAsync(prefix, info, Map(), null, "pkg.tar.gz", Token);

        Assert.Equal(1, report.FilesChanged);
        Assert.Empty(report.Problems);
        var expected = $"prefix=/sw/pkg-1.0-abcdefg\nincludedir=/home{OldRoot}/include\n";
        Assert.Equal(expected, File.ReadAllText(other)); // same inode: the hard link sees the change
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead, File.GetUnixFileMode(pc));
        Assert.Equal(["lib/pkgconfig/pkg.pc"], report.Leftovers); // "/home<old root>" is not relocated, as in Spack
    }

    [Theory]
    [InlineData("../outside.txt", "build info lists '../outside.txt', which is not a path inside the prefix")]
    [InlineData("/etc/passwd", "build info lists '/etc/passwd', which is not a path inside the prefix")]
    [InlineData("link.txt", "build info lists 'link.txt' as a file, but it is a link")]
    [InlineData("via/file.txt", "build info lists 'via/file.txt', which lies behind a symlink")]
    public async Task AListedTextPathThatLeavesThePrefixOrIsASymlinkIsRefused(string listed, string message)
    {
        var prefix = temp.Combine("prefix");
        var outside = temp.Combine("outside");
        Directory.CreateDirectory(prefix);
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "file.txt"), OldPackage);
        File.CreateSymbolicLink(Path.Combine(prefix, "link.txt"), Path.Combine(outside, "file.txt"));
        File.CreateSymbolicLink(Path.Combine(prefix, "via"), outside);
        var info = new BuildInfo("", OldRoot, "", "", [], [], [], [listed]);

        var e = await Assert.ThrowsAsync<InvalidContentException>(
            () => PackageRelocator.RelocateAsync(prefix, info, Map(), null, "pkg.tar.gz", Token));

        Assert.Equal("pkg.tar.gz: " + message, e.Message);
        Assert.Equal(OldPackage, File.ReadAllText(Path.Combine(outside, "file.txt")));
    }
}
