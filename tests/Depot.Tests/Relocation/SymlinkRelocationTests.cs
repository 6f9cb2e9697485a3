using Depot.Archive;
using Depot.Relocation;

namespace Depot.Tests.Relocation;

/// <summary>
/// relocation.md §4.4: a listed symlink whose absolute target starts with an old prefix is re-created pointing at the
/// new one (whether or not the target exists yet); relative links and targets outside every old prefix are kept.
/// </summary>
public sealed class SymlinkRelocationTests : IDisposable
{
    private const string OldRoot = "/build/spack/opt/spack";
    private const string OldPackage = OldRoot + "/linux-x86_64/pkg-1.0-abcdefg";
    private const string OldDependency = OldRoot + "/linux-x86_64/dep-2.0-hijklmn";

    private readonly TempDir temp = new();
    private readonly string prefix;

    public SymlinkRelocationTests()
    {
        prefix = temp.Combine("prefix");
        Directory.CreateDirectory(Path.Combine(prefix, "lib"));
        File.WriteAllText(Path.Combine(prefix, "lib", "libpkg.so.1.2"), "library");
    }

    public void Dispose() => temp.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static PrefixMap Map()
    {
        var map = new PrefixMap();
        map.Add(OldPackage, "/sw/pkg-1.0-abcdefg");
        map.Add(OldDependency, "/sw/deps/dep-2.0-hijklmn");
        map.Add(OldRoot, "/sw");
        return map;
    }

    private Task<RelocationReport> RelocateLinksAsync(params string[] links) =>
        PackageRelocator.RelocateAsync(prefix, new BuildInfo("", OldRoot, "", "", [], [], links, []), Map(), null,
            "pkg.tar.gz", Token);

    private string Target(string relative) => new FileInfo(Path.Combine(prefix, relative)).LinkTarget!;

    private void Link(string relative, string target) =>
        File.CreateSymbolicLink(Path.Combine(prefix, relative), target);

    [Fact]
    public async Task AbsoluteLinksIntoAnOldPrefixPointIntoTheNewOne()
    {
        Link("lib/libpkg.so", OldPackage + "/lib/libpkg.so.1.2");
        Link("lib/libdep.so", OldDependency + "/lib/libdep.so.2");
        Link("lib/other", OldRoot + "/linux-x86_64/other-3.0-opqrstu/lib");

        var report = await RelocateLinksAsync("lib/libpkg.so", "lib/libdep.so", "lib/other");

        Assert.Equal(3, report.FilesChanged);
        Assert.Empty(report.Leftovers);
        Assert.Equal("/sw/pkg-1.0-abcdefg/lib/libpkg.so.1.2", Target("lib/libpkg.so"));
        Assert.Equal("/sw/deps/dep-2.0-hijklmn/lib/libdep.so.2", Target("lib/libdep.so"));
        Assert.Equal("/sw/linux-x86_64/other-3.0-opqrstu/lib", Target("lib/other")); // the root's pair, last
    }

    [Fact]
    public async Task RelativeLinksAndLinksOutsideEveryOldPrefixStay()
    {
        Link("lib/libpkg.so", "libpkg.so.1.2");
        Link("lib/up", "../lib/libpkg.so.1.2");
        Link("lib/system", "/usr/lib/libc.so.6");
        Link("lib/lookalike", "/home" + OldPackage + "/lib");

        var report = await RelocateLinksAsync("lib/libpkg.so", "lib/up", "lib/system", "lib/lookalike");

        Assert.Equal(0, report.FilesChanged);
        Assert.Equal("libpkg.so.1.2", Target("lib/libpkg.so"));
        Assert.Equal("../lib/libpkg.so.1.2", Target("lib/up"));
        Assert.Equal("/usr/lib/libc.so.6", Target("lib/system"));
        Assert.Equal("/home" + OldPackage + "/lib", Target("lib/lookalike"));
    }

    [Fact]
    public async Task ADanglingLinkIsRelocatedToo()
    {
        // The target does not exist here (nor, yet, at the new prefix): only the link's text matters.
        Link("lib/libgone.so", OldPackage + "/lib/libgone.so.9");

        var report = await RelocateLinksAsync("lib/libgone.so", "lib/never-unpacked");

        Assert.Equal(1, report.FilesChanged);
        Assert.Equal("/sw/pkg-1.0-abcdefg/lib/libgone.so.9", Target("lib/libgone.so"));
    }

    [Fact]
    public async Task AListedLinkThatIsARegularFileIsRefusedAndLeftAlone()
    {
        var e = await Assert.ThrowsAsync<InvalidContentException>(() => RelocateLinksAsync("lib/libpkg.so.1.2"));

        Assert.Equal("pkg.tar.gz: build info lists 'lib/libpkg.so.1.2' as a link, but it is a file", e.Message);
        Assert.Equal("library", File.ReadAllText(Path.Combine(prefix, "lib", "libpkg.so.1.2")));
    }
}
