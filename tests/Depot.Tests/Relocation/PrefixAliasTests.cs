using System.Text;
using Depot.Archive;
using Depot.Relocation;

namespace Depot.Tests.Relocation;

/// <summary>
/// Installing into a root longer than the builder's: text gets the real new prefix, but binary strings and RPATHs
/// cannot grow, so they get a short alias of it (a path no longer than the old prefix, which Depot creates as a symlink
/// to the new prefix). An alias that does not fit is not used. Also the rules of <see cref="PrefixMap"/> itself.
/// </summary>
public sealed class PrefixAliasTests : IDisposable
{
    private const string OldRoot = "/b/r";
    private const string OldPackage = OldRoot + "/pkg-1.0-abcdefg";
    private const string OldDependency = OldRoot + "/dep-2.0-hijklmn";
    private const string NewRoot = "/scratch/projects/software/spack-install";
    private const string NewPackage = NewRoot + "/pkg-1.0-abcdefg";
    private const string Alias = "/sw/abcdefg";

    private readonly TempDir temp = new();
    private readonly string prefix;

    public PrefixAliasTests()
    {
        prefix = temp.Combine("prefix");
        Directory.CreateDirectory(Path.Combine(prefix, "lib"));
        Directory.CreateDirectory(Path.Combine(prefix, "share"));
    }

    public void Dispose() => temp.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static PrefixMap Map()
    {
        var map = new PrefixMap();
        map.Add(OldPackage, NewPackage);
        map.Add(OldDependency, "/d/dep-2.0-hijklmn"); // shorter: needs no alias
        map.Add(OldRoot, NewRoot);
        return map;
    }

    // A library with a RUNPATH through both prefixes and three C strings naming the package's prefix.
    private byte[] WritePackage()
    {
        var elf = MinimalElf.Create(true, true, null, $"{OldPackage}/lib:{OldDependency}/lib");
        byte[] library = [.. elf.Bytes,
            .. Encoding.UTF8.GetBytes($"{OldPackage}\0{OldPackage}/share/pkg/data\0{OldPackage}/lib\0")];
        File.WriteAllBytes(Path.Combine(prefix, "lib", "libpkg.so"), library);
        File.WriteAllText(Path.Combine(prefix, "share", "pkg.conf"), $"home={OldPackage}\n");
        return library;
    }

    private Task<RelocationReport> RelocateAsync(Func<string, string?>? shortAlias) =>
        PackageRelocator.RelocateAsync(prefix,
            new BuildInfo("", OldRoot, "", "", [], ["lib/libpkg.so"], [], ["share/pkg.conf"]), Map(), shortAlias,
            "pkg.tar.gz", Token);

    [Fact]
    public async Task BinariesGetTheShortAliasAndTextTheRealPrefix()
    {
        var original = WritePackage();
        var asked = new List<string>();

        var report = await RelocateAsync(old =>
        {
            asked.Add(old);
            return old == OldPackage ? Alias : null;
        });

        Assert.Empty(report.Problems);
        Assert.Empty(report.Leftovers);
        Assert.Equal(2, report.FilesChanged);
        Assert.Equal([OldPackage, OldRoot], asked); // only the prefixes whose new one is longer
        Assert.Equal($"home={NewPackage}\n", File.ReadAllText(Path.Combine(prefix, "share", "pkg.conf")));

        var library = File.ReadAllBytes(Path.Combine(prefix, "lib", "libpkg.so"));
        Assert.Equal(original.Length, library.Length);
        var elf = MinimalElf.Create(true, true, null, $"{OldPackage}/lib:{OldDependency}/lib");
        Assert.Equal($"{Alias}/lib:/d/dep-2.0-hijklmn/lib",
            (elf with { Bytes = library }).StringAt(elf.PathOffset));
        var pad = new string('/', OldPackage.Length - Alias.Length);
        // A string ending right at the prefix is padded too (its tail would be the hash, which no constant shares).
        Assert.Equal($"{pad}{Alias}\0{pad}{Alias}/share/pkg/data\0{pad}{Alias}/lib\0",
            Encoding.UTF8.GetString(library.AsSpan(elf.Bytes.Length)));
    }

    [Fact]
    public async Task WithoutAnAliasThatFitsBinaryStringsAreReportedAndKeptButTextIsRelocated()
    {
        foreach (var alias in new[] { null, "/an/alias/longer/than/the/old/one" })
        {
            var original = WritePackage();
            var strings = original.Length - 82; // where the three C strings start

            var runpath = $"{OldPackage}/lib:{OldDependency}/lib";
            var runpathAt = MinimalElf.Create(true, true, null, runpath).PathOffset;

            var report = await RelocateAsync(_ => alias);

            Assert.Equal(
            [
                $"lib/libpkg.so: RUNPATH '{NewPackage}/lib:/d/dep-2.0-hijklmn/lib' does not fit in the 49 bytes of "
                    + $"'{runpath}'",
                $"lib/libpkg.so: string '{runpath}' at offset {runpathAt} cannot grow from 20 to 56 bytes",
                $"lib/libpkg.so: string '{OldPackage}' at offset {strings} cannot grow from 20 to 56 bytes",
                $"lib/libpkg.so: string '{OldPackage}/share/pkg/data' at offset {strings + 21} cannot grow from 20 "
                    + "to 56 bytes",
                $"lib/libpkg.so: string '{OldPackage}/lib' at offset {strings + 57} cannot grow from 20 to 56 bytes",
            ], report.Problems);
            var library = File.ReadAllBytes(Path.Combine(prefix, "lib", "libpkg.so"));
            Assert.Equal(original[strings..], library[strings..]);
            Assert.Equal($"home={NewPackage}\n", File.ReadAllText(Path.Combine(prefix, "share", "pkg.conf")));
            Assert.Equal(["lib/libpkg.so"], report.Leftovers);
        }
    }

    [Fact]
    public void OnlyAnAliasMayPadACStringThatEndsRightAtThePrefix()
    {
        // Shrinking by 2 with no suffix, the last 7 bytes change: Spack refuses (another constant may share that
        // tail); an alias standing for a longer prefix is allowed (its tail is the package hash).
        var plain = new PrefixMap();
        plain.Add("/b/r/pkg-abc", "/b/pkg-xy1");
        var data = "/b/r/pkg-abc\0"u8.ToArray();
        Assert.Contains("cannot shrink by 2 bytes", Assert.Single(BinaryRelocator.RelocateInPlace(data, plain, out _)),
            StringComparison.Ordinal);

        var alias = new PrefixMap();
        alias.Add("/b/r/pkg-abc", "/b/pkg-xy1", alias: true);
        Assert.True(alias.IsAlias(0));
        Assert.Empty(BinaryRelocator.RelocateInPlace(data, alias, out var modified));
        Assert.True(modified);
        Assert.Equal("///b/pkg-xy1\0", Encoding.UTF8.GetString(data));

        // With a suffix the usual rule applies even to an alias.
        var suffixed = "/b/r/pkg-abc/lib\0"u8.ToArray();
        Assert.Single(BinaryRelocator.RelocateInPlace(suffixed, alias, out _));
    }

    [Fact]
    public void APrefixMapKeepsTheFirstPairForAPrefixAndDropsIdentityPairsAndTrailingSlashes()
    {
        var map = new PrefixMap();
        map.Add("/old/pkg/", "/new/pkg/");
        map.Add("/old/pkg", "/ignored");
        map.Add("/same", "/same/");
        map.Add("/", "/anything"); // the file system root is no prefix
        map.Add("/old", "/new", alias: true);

        Assert.Equal([("/old/pkg", "/new/pkg"), ("/old", "/new")],
            map.Pairs.Select(p => (Encoding.UTF8.GetString(p.Old), Encoding.UTF8.GetString(p.New))));
        Assert.False(map.IsAlias(0));
        Assert.True(map.IsAlias(1));
        Assert.Equal("/new/pkg/lib", map.MapStart("/old/pkg/lib"));
        Assert.Equal("/new/other", map.MapStart("/old/other"));
        Assert.Null(map.MapStart("/elsewhere/old/pkg"));
        Assert.True(new PrefixMap().IsEmpty);
    }
}
