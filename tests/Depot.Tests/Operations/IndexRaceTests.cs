using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Operations;
using Depot.Storage;
using Depot.Storage.Azure;
using Depot.Storage.Oci;
using Depot.Storage.S3;
using Depot.Tests.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// Two writers update one index at once, on the real services, with the interleaving forced
/// (<see cref="StaleWriteProxy"/>): an indexer that listed the mirror before a push of greet-data writes its index
/// after the other writer's (an index run or the push's own index update). Where conditional writes are not atomic
/// (s3rver ignores them, a registry has none) the stale index lands and the indexer repairs it; on Azurite it is
/// refused and redone. Either way the final index holds every spec of both writers.
/// </summary>
public sealed class IndexRaceTests(S3rver s3, Azurite azurite, DockerRegistry registry)
    : IClassFixture<S3rver>, IClassFixture<Azurite>, IClassFixture<DockerRegistry>
{
    private const string Tree12 = "spack-1.2/install-tree";

    // greet and what it links (libgreet, gcc-runtime) first; greet-data comes in the race.
    private const int SpecsBefore = 3;
    private const int SpecsAfter = 4;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public enum Racer
    {
        /// <summary>greet-data is pushed without an index update, then <c>depot index</c> runs.</summary>
        Index,

        /// <summary>greet-data is pushed, with the push's own index update.</summary>
        Push,
    }

    [Theory]
    [InlineData(PushLayout.V3, Racer.Index)]
    [InlineData(PushLayout.V3, Racer.Push)]
    [InlineData(PushLayout.V2Spack022, Racer.Index)]
    [InlineData(PushLayout.V2Spack022, Racer.Push)]
    public async Task OnS3rverAStaleIndexWriteLandsAndIsRepaired(PushLayout layout, Racer racer)
    {
        using var store = new S3Store(S3rver.Bucket, "race-" + Guid.NewGuid().ToString("N")[..8],
            new S3StoreOptions(s3.Endpoint, "S3RVER", "S3RVER"));
        Assert.False(((IStoreWriter)store).ConditionalWritesAreAtomic);
        await RaceAsync(store, layout, racer, expectStaleWriteToLand: true);
    }

    [Theory]
    [InlineData(Racer.Index)]
    [InlineData(Racer.Push)]
    public async Task OnARegistryAStaleIndexSpackTagLandsAndIsRepaired(Racer racer)
    {
        using var store = new OciStore(OciReference.Parse(registry.Url("race/r" + Guid.NewGuid().ToString("N")[..8])));
        Assert.False(((IStoreWriter)store).ConditionalWritesAreAtomic);
        await RaceAsync(store, PushLayout.Oci, racer, expectStaleWriteToLand: true);
    }

    [Theory]
    [InlineData(PushLayout.V3, Racer.Index)]
    [InlineData(PushLayout.V3, Racer.Push)]
    [InlineData(PushLayout.V2Spack022, Racer.Index)]
    public async Task OnAzuriteAStaleIndexWriteIsRefusedAndRedone(PushLayout layout, Racer racer)
    {
        var store = new AzureBlobStore("devstoreaccount1", "depot-test", "race-" + Guid.NewGuid().ToString("N")[..8],
            azurite.ConnectionString);
        Assert.True(((IStoreWriter)store).ConditionalWritesAreAtomic);
        await RaceAsync(store, layout, racer, expectStaleWriteToLand: false);
    }

    private static async Task RaceAsync(IObjectStore store, PushLayout layout, Racer racer,
        bool expectStaleWriteToLand)
    {
        var before = await PushAsync(store, layout, updateIndex: false, "greet");
        Assert.Equal(SpecsBefore, before.Count(PushStatus.Pushed));
        var target = Assert.Single(await BuildCache.DetectAsync(store, Token));
        var proxy = new StaleWriteProxy(target, async () =>
        {
            var late = await PushAsync(store, layout, updateIndex: racer == Racer.Push, "greet-data");
            Assert.Equal(1, late.Count(PushStatus.Pushed));
            if (racer == Racer.Index)
            {
                var indexed = Assert.Single(await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null,
                    Token));
                Assert.Equal(SpecsAfter, indexed.Specs);
            }

            Assert.Equal(SpecsAfter, (await target.ReadIndexAsync(Token))!.CachedSpecs.Count());
        }, compareAlreadyPassed: expectStaleWriteToLand);

        var result = await IndexOperation.IndexLayoutAsync(proxy, new IndexOptions(), null, Token);

        Assert.Equal(expectStaleWriteToLand, proxy.StaleWriteLanded);
        if (expectStaleWriteToLand)
        {
            Assert.Equal(SpecsBefore, proxy.SpecsAfterStaleWrite); // greet-data was lost for a moment...
        }

        Assert.True(result.Attempts >= 2, $"{result.Attempts} attempt(s)"); // ...and the indexer made it again
        Assert.Equal(SpecsAfter, result.Specs);
        var final = (await target.ReadIndexAsync(Token))!.CachedSpecs.Select(s => s.Name).Order().ToList();
        Assert.Equal(["gcc-runtime", "greet", "greet-data", "libgreet"], final);
    }

    private static async Task<PushResult> PushAsync(IObjectStore store, PushLayout layout, bool updateIndex,
        string query)
    {
        var mirror = Mirror.Of(store, layout: layout == PushLayout.Oci ? null : layout);
        return await PushOperationTests.PushAsync(TestData.Path(Tree12), mirror,
            new PushOptions(UpdateIndex: updateIndex), query);
    }
}
