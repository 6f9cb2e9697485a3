using System.Text;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Tests.Layout;

public class BuildCacheLayoutTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private const string GreetManifest =
        "v3/manifests/spec/greet/greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug.spec.manifest.json";
    private const string V3IndexBlob =
        "blobs/sha256/32/32be1bd8585e4ea587976f5efe946ee53720c8eb328c812071e6038d77252b48";

    [Theory]
    [InlineData(TestData.V3Signed, 3)]
    [InlineData(TestData.V3Unsigned, 3)]
    [InlineData(TestData.V2Signed, 2)]
    [InlineData(TestData.V2Unsigned, 2)]
    public async Task DetectsTheLayoutOfEachFixtureMirror(string mirror, int version)
    {
        var layouts = await BuildCache.DetectAsync(new LocalDirectoryStore(TestData.Path(mirror)), Token);
        Assert.Equal(version, Assert.Single(layouts).Version);
    }

    [Fact]
    public async Task AnEmptyDirectoryIsNotABuildCache()
    {
        using var temp = new TempDir();
        var e = await Assert.ThrowsAsync<NoBuildCacheException>(() =>
            BuildCache.DetectAsync(new LocalDirectoryStore(temp.Path), Token));
        Assert.Contains("no build cache here", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownLayoutVersionIsNamed()
    {
        using var temp = new TempDir();
        var store = new LocalDirectoryStore(temp.Path);
        await store.WriteAllTextAsync("v4/layout.json", "{}", Token);
        var e = await Assert.ThrowsAsync<DepotException>(() => BuildCache.DetectAsync(store, Token));
        Assert.Contains("layout v4 is not supported", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsignedManifestsAreWrittenByteForByteAsSpackDoes()
    {
        var path = TestData.Path(TestData.V3Unsigned + "/" + GreetManifest);
        var bytes = File.ReadAllBytes(path);
        var manifest = BuildCacheManifest.Parse(bytes, path);
        Assert.False(manifest.IsSigned);
        Assert.Equal(2, manifest.Records.Count);
        Assert.Equal(7831, manifest.Find(MediaTypes.Tarball)!.ContentLength);
        Assert.Equal("blobs/sha256/c3/c3607bc9ed60f5ed4e48a754a3bd3cab96a9d3112ca6f33c829808cfdc49d565",
            manifest.Find(MediaTypes.SpecV5)!.BlobKey);
        Assert.Equal(bytes, manifest.ToJsonBytes());
    }

    [Fact]
    public void SignedManifestsCarryTheUnsignedTextAsTheirBody()
    {
        var signed = BuildCacheManifest.Parse(File.ReadAllBytes(TestData.Path(TestData.V3Signed + "/" + GreetManifest)),
            "signed");
        Assert.True(signed.IsSigned);
        Assert.Equal(File.ReadAllText(TestData.Path(TestData.V3Unsigned + "/" + GreetManifest)), signed.SignedText);
    }

    [Theory]
    [InlineData("{\"version\":4,\"data\":[]}", "unsupported manifest layout version 4")]
    [InlineData("{\"data\":[]}", "no integer 'version'")]
    [InlineData("{\"version\":3}", "no 'data' list")]
    [InlineData("{\"version\":3,\"data\":[{\"contentLength\":1,\"mediaType\":\"x\",\"compression\":\"none\","
        + "\"checksumAlgorithm\":\"sha256\",\"checksum\":\"abc\"}]}", "invalid checksum")]
    [InlineData("{\"version\":3,\"data\":[{\"mediaType\":\"x\"}]}", "no valid 'contentLength'")]
    [InlineData("{\"version\":3,", "malformed JSON")]
    public void BadManifestsFailWithOneLineNamingTheFile(string content, string expected)
    {
        var e = Assert.Throws<InvalidContentException>(() => BuildCacheManifest.Parse(Encoding.UTF8.GetBytes(content),
            "/m/x.spec.manifest.json"));
        Assert.StartsWith("/m/x.spec.manifest.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TestData.V3Signed + "/" + V3IndexBlob, 8, 8)]
    [InlineData(TestData.V2Signed + "/build_cache/index.json", 7, 4)]
    public void IndexesSpackWroteAreReproducedByteForByte(string relative, int version, int records)
    {
        var bytes = File.ReadAllBytes(TestData.Path(relative));
        var index = BuildCacheIndex.Parse(bytes, relative);
        Assert.Equal(version, index.DatabaseVersion);
        Assert.Equal(records, index.Count);
        Assert.Equal(bytes, index.ToJsonBytes());
    }

    [Fact]
    public void IndexRecordsKeepInBuildcacheAndRefCounts()
    {
        var index = BuildCacheIndex.Parse(File.ReadAllBytes(TestData.Path(TestData.V3Signed + "/" + V3IndexBlob)), "i");
        Assert.Equal(5, index.CachedSpecs.Count());
        Assert.Equal(3, index.Find("umaathbgr6kg2kzf3jswhf573qudbx7w")!.RefCount);
        Assert.False(index.Find("umaathbgr6kg2kzf3jswhf573qudbx7w")!.InBuildcache);
        Assert.True(index.Find("45qqyrdm2lgdwkith6pdxfyacbtymalw")!.InBuildcache);
    }

    [Theory]
    [InlineData("{\"database\":{\"version\":\"9\",\"installs\":{}}}", "unsupported index database version '9'")]
    [InlineData("{\"installs\":{}}", "no 'database' object")]
    [InlineData("{\"database\":{\"version\":\"8\",\"installs\":{\"h\":{}}}}", "index record h has no 'spec'")]
    public void BadIndexesFailWithOneLine(string content, string expected)
    {
        var e = Assert.Throws<InvalidContentException>(() => BuildCacheIndex.Parse(Encoding.UTF8.GetBytes(content),
            "/m/index.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EntryNamesFollowSpacksTemplatesInBothLayouts()
    {
        var v3 = new BuildCacheV3(new LocalDirectoryStore(TestData.Path(TestData.V3Signed)));
        var spec = await v3.ReadSpecAsync(new SpecEntry(GreetManifest, "ilccysmlleizqaxfvvqsb6selpnnszug", false),
            Token);
        Assert.Equal(GreetManifest, BuildCacheV3.SpecManifestKey(spec.Root));

        var v2Root = TestData.Path(TestData.V2Signed);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(v2Root, "build_cache"), "*.sig"))
        {
            var node = SpecFile.Parse(File.ReadAllBytes(file), file).Root;
            Assert.Equal(Path.GetRelativePath(v2Root, file), BuildCacheV2.SpecFileKey(node, signed: true));
            Assert.True(File.Exists(Path.Combine(v2Root, BuildCacheV2.TarballKey(node))),
                BuildCacheV2.TarballKey(node));
        }
    }

    [Fact]
    public async Task ASpecBlobWithAWrongChecksumIsRefused()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        var blob = copy.Combine("blobs/sha256/c3/c3607bc9ed60f5ed4e48a754a3bd3cab96a9d3112ca6f33c829808cfdc49d565");
        var bytes = File.ReadAllBytes(blob);
        bytes[^5] ^= 0xff;
        File.WriteAllBytes(blob, bytes);
        var v3 = new BuildCacheV3(new LocalDirectoryStore(copy.Path));
        var e = await Assert.ThrowsAsync<InvalidContentException>(() =>
            v3.ReadSpecAsync(new SpecEntry(GreetManifest, "ilccysmlleizqaxfvvqsb6selpnnszug", false), Token));
        Assert.Contains("checksum mismatch", e.Message, StringComparison.Ordinal);
        Assert.StartsWith(blob, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AManifestPointingAtAMissingBlobIsNamed()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        File.Delete(copy.Combine("blobs/sha256/c3/c3607bc9ed60f5ed4e48a754a3bd3cab96a9d3112ca6f33c829808cfdc49d565"));
        var v3 = new BuildCacheV3(new LocalDirectoryStore(copy.Path));
        var e = await Assert.ThrowsAsync<InvalidContentException>(() =>
            v3.ReadSpecAsync(new SpecEntry(GreetManifest, "ilccysmlleizqaxfvvqsb6selpnnszug", false), Token));
        Assert.StartsWith(copy.Combine(GreetManifest), e.Message, StringComparison.Ordinal);
        Assert.Contains("which is missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEntryWhoseSpecHasAnotherHashIsRefused()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        var wrong = GreetManifest.Replace("ilccysmlleizqaxfvvqsb6selpnnszug", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            StringComparison.Ordinal);
        File.Move(copy.Combine(GreetManifest), copy.Combine(wrong));
        var v3 = new BuildCacheV3(new LocalDirectoryStore(copy.Path));
        var e = await Assert.ThrowsAsync<InvalidContentException>(() =>
            v3.ReadSpecAsync(new SpecEntry(wrong, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false), Token));
        Assert.Contains("not the aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa its name says", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task V2SpecFilesNewerThanLayoutTwoAreRefused()
    {
        using var copy = TestData.Copy(TestData.V2Unsigned);
        var file = Directory.EnumerateFiles(copy.Combine("build_cache"), "*greet-data*.spec.json").Single();
        File.WriteAllText(file,
            File.ReadAllText(file)
                .Replace("\"buildcache_layout_version\":1", "\"buildcache_layout_version\":3",
            StringComparison.Ordinal));
        var v2 = new BuildCacheV2(new LocalDirectoryStore(copy.Path));
        var entry = await v2.ListSpecEntriesAsync(Token)
            .SingleAsync(e => e.Key.Contains("greet-data", StringComparison.Ordinal), Token);
        var e = await Assert.ThrowsAsync<InvalidContentException>(() => v2.ReadSpecAsync(entry, Token));
        Assert.Contains("buildcache_layout_version 3 is too new", e.Message, StringComparison.Ordinal);
    }
}
