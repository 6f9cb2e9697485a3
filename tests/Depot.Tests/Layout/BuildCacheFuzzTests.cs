using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Depot.Layout;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Tests.Layout;

/// <summary>
/// Hostile index JSON (database versions 7 and 8) and v3 manifests, plain and clearsigned: only Depot's own errors may
/// come out of <see cref="BuildCacheIndex.Parse"/> and <see cref="BuildCacheManifest.Parse"/>, and a manifest's size
/// fields are never trusted for an allocation.
/// </summary>
public sealed class BuildCacheFuzzTests
{
    private static readonly Gen<byte[]> ManifestLike =
        Gen.Select(Gen.Long, Gen.String[Gen.Char.AlphaNumeric, 0, 70], Gen.Int[0, 4], Gen.Int[-1, 4])
            .Select((length, checksum, count, version) => Encoding.UTF8.GetBytes(new JsonObject
            {
                ["version"] = version,
                ["data"] = new JsonArray(Enumerable.Range(0, count).Select(_ => (JsonNode)new JsonObject
                {
                    ["contentLength"] = length,
                    ["mediaType"] = MediaTypes.Tarball,
                    ["compression"] = "gzip",
                    ["checksumAlgorithm"] = "sha256",
                    ["checksum"] = checksum,
                }).ToArray()),
            }.ToJsonString()));

    private static readonly Gen<byte[]> IndexLike =
        Gen.Select(Gen.Int[5, 9], Gen.String[Gen.Char.AlphaNumeric, 0, 33], Gen.Bool, Gen.Int[0, 3])
            .Select((version, hash, inCache, count) =>
            {
                var installs = new JsonObject();
                for (var i = 0; i < count; i++)
                {
                    installs[hash + i] = new JsonObject
                    {
                        ["spec"] = new JsonObject { ["name"] = "p" + i, ["hash"] = hash, ["version"] = "1" },
                        ["in_buildcache"] = inCache ? true : 1,
                        ["ref_count"] = i - 1,
                    };
                }

                var database = new JsonObject
                {
                    ["version"] = version.ToString(CultureInfo.InvariantCulture),
                    ["installs"] = installs,
                };
                return Encoding.UTF8.GetBytes(new JsonObject { ["database"] = database }.ToJsonString());
            });

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void IndexesParseOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("index-json", input =>
        {
            try
            {
                Specs.SpecFileFuzzTests.ReadEveryField(BuildCacheIndex.Parse(input, "index.json").CachedSpecs);
            }
            finally
            {
                var snapshot = IndexSnapshot.Read(input, "index.json"); // the incremental indexer's own reader
                Specs.SpecFileFuzzTests.ReadEveryField(snapshot.Order.Select(snapshot.Node).OfType<SpecNode>());
            }
        }, iterations: 1500, IndexLike);

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void KeyIndexesParseOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("key-index", input => BuildCacheLayoutExtensions.ParseKeyIndex(input, "_pgp/index.json"),
            iterations: 1500);

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void ManifestsParseOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("manifest-v3", input => BuildCacheManifest.Parse(input, "fuzzed.spec.manifest.json"),
            iterations: 3000, ManifestLike);

    [Fact]
    public async Task AManifestClaimingTenGigabytesCostsOnlyTheBytesThatAreThere()
    {
        using var mirror = new TempDir();
        var blob = "{\"small\": true}"u8.ToArray();
        var checksum = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(blob));
        var record = new BlobRecord(10L << 30, MediaTypes.SpecV5, "none", "sha256", checksum);
        var store = new LocalDirectoryStore(mirror.Path);
        await store.WriteAllBytesAsync(record.BlobKey, blob, TestContext.Current.CancellationToken);
        var layout = new BuildCacheV3(store);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = await Assert.ThrowsAsync<InvalidContentException>(() =>
            layout.ReadBlobAsync(record, "greet.spec.manifest.json", TestContext.Current.CancellationToken));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("10737418240 bytes", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 4 << 20, $"{allocated} bytes allocated");
    }
}
