using System.Text;
using Depot.Layout;
using Depot.Operations;
using Depot.Storage;
using Depot.Tests.Formats;
using Depot.Tests.Layout;

namespace Depot.Tests.Operations;

/// <summary>Issue 14: what a hostile mirror can make <c>depot list</c> spend (class 6) or show for another mirror
/// (class 8).</summary>
public sealed class ListHostileMirrorTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SixtyFourBlobsClaiming512MiBEachCostNoMoreThanTheirBytes()
    {
        using var mirror = new TempDir();
        var store = new LocalDirectoryStore(mirror.Path);
        var v3 = new BuildCacheV3(store);
        await store.WriteAllBytesAsync(BuildCacheV3.LayoutKey, BuildCacheV3.LayoutJson, Token);
        var tarball = new BlobRecord(10, MediaTypes.Tarball, "gzip", "sha256", new string('0', 64));
        for (var i = 0; i < 64; i++)
        {
            // A few bytes of gzip whose size trailer claims 512 MiB (each blob distinct, so none is shared).
            var blob = GzipTests.LyingGzip(Encoding.ASCII.GetBytes("{\"n\":" + i + "}"), 512u << 20);
            Assert.True(blob.Length < 40);
            var spec = await v3.PutBlobAsync(blob, MediaTypes.SpecV5, "gzip", Token);
            var hash =
                Depot.Specs.Base32.EncodeLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))
                    .AsSpan(0, 20));
            await store.WriteAllBytesAsync($"v3/manifests/spec/evil/evil-1.0-{hash}.spec.manifest.json",
                new BuildCacheManifest([spec, tarball]).ToJsonBytes(), Token);
        }

        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([], Rescan: true, Parallelism: 16),
            null, Token);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Empty(result.Rows);
        Assert.Equal(64, result.Problems.Count);
        // Trusting the trailers would allocate 64 × 512 MiB; other tests running meanwhile share this counter, so the
        // bound is generous but far below even one trusted trailer.
        Assert.True(allocated < 256L << 20, $"{allocated >> 20} MiB allocated listing 64 tiny blobs");
    }

    /// <summary>
    /// Two v2 mirrors with the same <c>index.json.hash</c>; the hostile one's <c>index.json</c> invents a spec. Neither
    /// listing may show the other's specs, whichever is listed first, cold or warm.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AMirrorCarryingAnothersIndexHashCannotPoisonItsListing(bool hostileFirst)
    {
        using var home = new TempDir();
        using var good = TestData.Copy(TestData.V2Unsigned);
        using var hostile = TestData.Copy(TestData.V2Unsigned);
        var index = hostile.Combine("build_cache", "index.json");
        File.WriteAllText(index,
            File.ReadAllText(index).Replace("\"greet-data\"", "\"invented\"", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllText(good.Combine("build_cache", "index.json.hash")),
            File.ReadAllText(hostile.Combine("build_cache", "index.json.hash")));

        var cache = new IndexCache(home.Path);
        async Task<string[]> Names(string mirror) =>
            (await ListOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror)), new ListOptions([],
                Cache: cache), null, Token)).Rows.Select(r => r.Name).ToArray();
        string[] goodNames = ["greet", "greet-data", "libgreet"];
        string[] hostileNames = ["greet", "invented", "libgreet"];

        for (var round = 0; round < 2; round++)
        {
            if (hostileFirst)
            {
                Assert.Equal(hostileNames, await Names(hostile.Path));
                Assert.Equal(goodNames, await Names(good.Path));
            }
            else
            {
                Assert.Equal(goodNames, await Names(good.Path));
                Assert.Equal(hostileNames, await Names(hostile.Path));
            }
        }

        // The good mirror's summary is warm (keyed by its own bytes) and serves it without reading its index.
        var recording = new Depot.Tests.Storage.RecordingStore(new LocalDirectoryStore(good.Path));
        Assert.Equal(goodNames, (await ListOperation.RunAsync(Mirror.Of(recording), new ListOptions([], Cache: cache),
            null, Token)).Rows.Select(r => r.Name));
        Assert.DoesNotContain("build_cache/index.json", recording.Opened);
    }
}
