using System.Security.Cryptography;
using System.Text;
using Depot.Sources;
using Depot.Storage;

namespace Depot.Tests.Sources;

/// <summary>Spack's source mirror layout: which keys are archives (and their digests), which are checkouts, which are
/// not Spack's; checksums of every algorithm Spack names archives by; where the download cache is found.</summary>
public sealed class SourceMirrorTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static SourceObject Describe(string key) => SourceMirror.Describe(new StoreObject(key, 1));

    [Fact]
    public void ArchivesAreNamedByTheirDigestUnderItsFirstTwoCharacters()
    {
        const string Sha = "d57727a2611e27002506e49e45ecc970345324c517c9992f6c224f5eae98d1c8";
        var archive = Describe($"_source-cache/archive/d5/{Sha}.tar.gz");
        Assert.True(archive.IsCheckable);
        Assert.Equal((SourceObjectKind.Archive, "sha256", Sha, "tar.gz"),
            (archive.Kind, archive.Digest!.Algorithm, archive.Digest.Hex, archive.Extension));
        Assert.Equal($"_source-cache/archive/d5/{Sha}.tar.gz", SourceMirror.ArchiveKey(archive.Digest, "tar.gz"));

        // expand=False archives have no extension; old packages are named by md5.
        var bare = Describe($"_source-cache/archive/d5/{Sha}");
        Assert.True(bare.IsCheckable);
        Assert.Null(bare.Extension);
        var md5 = Describe("_source-cache/archive/9e/9e107d9d372bb6826bd81d3542a419d6.tgz");
        Assert.Equal("md5", md5.Digest!.Algorithm);
    }

    [Theory]
    [InlineData("_source-cache/archive/aa/d57727a2611e27002506e49e45ecc970345324c517c9992f6c224f5eae98d1c8.tar.gz")]
    [InlineData("_source-cache/archive/d5/zlib-1.3.tar.gz")]
    [InlineData("_source-cache/archive/d5/d57727a2611e.tar.gz")]
    [InlineData("_source-cache/archive/d57727a2611e27002506e49e45ecc970345324c517c9992f6c224f5eae98d1c8.tar.gz")]
    [InlineData("_source-cache/archive/d5/x/d57727a2611e27002506e49e45ecc970345324c517c9992f6c224f5eae98d1c8")]
    [InlineData("_source-cache/README")]
    [InlineData("_source-cache/git/abc.tar.gz")]
    public void KeysSpackWouldNotWriteSayWhy(string key)
    {
        var described = Describe(key);
        Assert.False(described.IsWellFormed);
        Assert.False(described.IsCheckable);
        Assert.False(string.IsNullOrWhiteSpace(described.Problem));
    }

    [Fact]
    public void CheckoutsAreWellFormedButNotCheckable()
    {
        var git = Describe(FakeSpackSources.GitKey);
        Assert.Equal(SourceObjectKind.Checkout, git.Kind);
        Assert.True(git.IsWellFormed);
        Assert.False(git.IsCheckable);
        Assert.True(Describe("_source-cache/svn/repos/proj/1234.tar.gz").IsWellFormed);
    }

    [Theory]
    [InlineData("md5", "900150983cd24fb0d6963f7d28e17f72")]
    [InlineData("sha1", "a9993e364706816aba3e25717850c26c9cd0d89d")]
    [InlineData("sha224", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7")]
    [InlineData("sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("sha384",
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")]
    [InlineData("sha512", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23"
        + "a3feebbd454d4423643ce80e2a9ac94fa54ca49f")]
    public async Task EveryAlgorithmSpackNamesArchivesByIsChecked(string algorithm, string abcDigest)
    {
        using var dir = new TempDir();
        var store = new LocalDirectoryStore(dir.Path);
        var digest = SourceDigest.Parse(abcDigest)!;
        Assert.Equal(algorithm, digest.Algorithm);
        var key = SourceMirror.ArchiveKey(digest, "txt");
        await store.WriteAllTextAsync(key, "abc", Token);
        Assert.Equal(3, await SourceMirror.CheckAsync(store, SourceMirror.Describe(new StoreObject(key, 3)), Token));

        await store.WriteAllTextAsync(key, "abd", Token);
        using var hasher = new SourceHasher(algorithm);
        hasher.Append("abd"u8);
        var actual = hasher.Finish();
        var e = await Assert.ThrowsAsync<InvalidContentException>(() =>
            SourceMirror.CheckAsync(store, SourceMirror.Describe(new StoreObject(key, 3)), Token));
        Assert.Equal($"{store.Describe(key)}: checksum mismatch: the name says {algorithm} {abcDigest}, the content "
            + $"(3 bytes) is {algorithm} {actual}",
            e.Message);
    }

    [Fact]
    public async Task ListingDescribesEveryObjectUnderTheSourceCacheAndNothingElse()
    {
        using var sources = new FakeSpackSources();
        var store = new LocalDirectoryStore(sources.Cache);
        var listed = await SourceMirror.ListAsync(store, Token).ToListAsync(Token);
        Assert.Equal(sources.Keys.Order(StringComparer.Ordinal),
            listed.Select(o => o.Key).Order(StringComparer.Ordinal));
        Assert.All(listed, o => Assert.True(o.IsWellFormed));
        Assert.Equal(2, listed.Count(o => o.IsCheckable));
        Assert.True(await SourceMirror.HoldsSourcesAsync(store, Token));
        Assert.False(await SourceMirror.HoldsSourcesAsync(new LocalDirectoryStore(sources.SpackRoot + "/opt"), Token));
    }

    [Fact]
    public void TheDownloadCacheIsFoundFromTheFolderTheInstallTreeOrSpackRoot()
    {
        using var sources = new FakeSpackSources();
        Assert.Equal(sources.Cache, SourceCacheLocator.Resolve(sources.Cache));
        Assert.Equal(sources.Cache, SourceCacheLocator.Resolve(Path.Combine(sources.Cache, "_source-cache") + "/"));
        Assert.Equal(sources.Cache, SourceCacheLocator.Resolve(null, Path.Combine(sources.SpackRoot, "opt", "spack")));
        Assert.Equal(sources.Cache, SourceCacheLocator.Resolve(null, null, sources.SpackRoot));

        var none = Assert.Throws<DepotException>(() => SourceCacheLocator.Resolve(null, "/srv/tree", null));
        Assert.Equal(ErrorKind.Usage, none.Kind);
        var empty = Assert.Throws<DepotException>(() => SourceCacheLocator.Resolve(sources.SpackRoot));
        Assert.Equal(ErrorKind.NotFound, empty.Kind);
        Assert.Equal($"{sources.SpackRoot}: not a Spack download cache (no _source-cache/ inside)", empty.Message);
    }
}
