using Depot.Operations;
using Depot.Specs;
using Depot.Storage;
using Depot.Storage.S3;
using Depot.Tests.Storage;

namespace Depot.Tests.Operations;

/// <summary>Prune and rm on a bucket (s3rver): the same plan as on a directory, the same objects gone.</summary>
public sealed class S3PruneTests(S3rver server) : IClassFixture<S3rver>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<S3Store> UploadedFixtureAsync()
    {
        var store = new S3Store(S3rver.Bucket, "prune-" + Guid.NewGuid().ToString("N")[..8],
            new S3StoreOptions(server.Endpoint, "S3RVER", "S3RVER"));
        using var fixture = TestData.InstallableV3(TestData.V3Unsigned);
        foreach (var key in PlantedOrphans.Files(fixture.Path))
        {
            await using var file = File.OpenRead(Path.Combine(fixture.Path, key));
            await store.WriteAsync(key, file, Token);
        }

        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null, Token);
        // What that left unreferenced (Spack's index blob, replaced) goes first: an object can't be aged in a bucket.
        await PruneOperation.RunAsync(Mirror.Of(store), new PruneOptions(Apply: true, Grace: TimeSpan.Zero), null,
            Token);
        return store;
    }

    private static async Task<HashSet<string>> KeysAsync(S3Store store) =>
        (await ((IStoreLister)store).ListKeysAsync("", Token).ToListAsync(Token)).ToHashSet(StringComparer.Ordinal);

    [Fact]
    public async Task PlantedOrphansAreListedThenRemovedExactlyAndTheCacheStillVerifies()
    {
        using var store = await UploadedFixtureAsync();
        var expected = await PlantedOrphans.PlantV3Async(store);
        var before = await KeysAsync(store);

        Assert.Empty((await PruneOperation.RunAsync(Mirror.Of(store), new PruneOptions(), null, Token)).Items);
        var plan = await PruneOperation.RunAsync(Mirror.Of(store), new PruneOptions(Grace: TimeSpan.Zero), null,
            Token);
        Assert.Equal(expected.Order(StringComparer.Ordinal),
            plan.Items.SelectMany(i => i.Keys).Order(StringComparer.Ordinal));
        Assert.Equal(before, await KeysAsync(store));

        var done = await PruneOperation.RunAsync(Mirror.Of(store), new PruneOptions(Apply: true,
            Grace: TimeSpan.Zero), null, Token);
        Assert.Empty(done.Problems);
        Assert.Equal(expected.Count, done.Items.Sum(i => i.Keys.Count));
        var after = await KeysAsync(store);
        Assert.Empty(after.Intersect(expected));
        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, Depot.Signing.TrustPolicy.None("s3")),
            new VerifyOptions([]), null, Token);
        Assert.True(verified.Ok, string.Join('\n', verified.Failures));
        Assert.Equal(5, verified.Checked);
    }

    [Fact]
    public async Task RmRefusesANeededDependencyThenRemovesTheDependent()
    {
        using var store = await UploadedFixtureAsync();
        var refused = await Assert.ThrowsAsync<DepotException>(() => RmOperation.RunAsync(Mirror.Of(store),
            new RmOptions([SpecQuery.Parse("gcc-runtime")]), null, Token));
        Assert.Equal(ErrorKind.Conflict, refused.Kind);

        var removed = await RmOperation.RunAsync(Mirror.Of(store), new RmOptions([SpecQuery.Parse("greet")]), null,
            Token);
        var keys = await KeysAsync(store);
        Assert.Empty(keys.Intersect(Assert.Single(removed.Items).Keys));
        var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Equal(4, listed.Rows.Count);
        Assert.DoesNotContain(listed.Rows, r => r.Name == "greet");
    }
}
