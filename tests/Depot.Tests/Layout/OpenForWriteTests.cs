using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Storage;
using Depot.Storage.S3;
using Depot.Tests.Storage;

namespace Depot.Tests.Layout;

/// <summary>
/// <see cref="BuildCache.OpenForWriteAsync"/> starts a new cache only where there is none yet: a store that refuses,
/// or a layout Depot does not know, is an error, never "an empty mirror" to write v3 into.
/// </summary>
public sealed class OpenForWriteTests(S3rver server) : IClassFixture<S3rver>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AMirrorWithNoBuildCacheGetsV3()
    {
        using var temp = new TempDir();
        Assert.Equal("v3", (await BuildCache.OpenForWriteAsync(new LocalDirectoryStore(temp.Path), null, Token)).Name);
    }

    [Fact]
    public async Task AMirrorKeepsTheNewestLayoutItHas()
    {
        static LocalDirectoryStore Fixture(string mirror) => new(TestData.Path(mirror));
        Assert.Equal("v2", (await BuildCache.OpenForWriteAsync(Fixture(TestData.V2Signed), null, Token)).Name);
        Assert.Equal("v3", (await BuildCache.OpenForWriteAsync(Fixture(TestData.V3Signed), null, Token)).Name);
    }

    [Fact]
    public async Task AnUnsupportedLayoutIsNotTakenForAnEmptyMirror()
    {
        using var temp = new TempDir();
        var store = new LocalDirectoryStore(temp.Path);
        await store.WriteAllTextAsync("v4/layout.json", "{}", Token);
        var e = await Assert.ThrowsAsync<DepotException>(() => BuildCache.OpenForWriteAsync(store, null, Token));
        Assert.Contains("layout v4 is not supported", e.Message, StringComparison.Ordinal);
        Assert.False(await store.ExistsAsync(BuildCacheV3.LayoutKey, Token));
    }

    [Fact]
    public async Task WrongCredentialsAreNotTakenForAnEmptyMirror()
    {
        var prefix = "m-" + Guid.NewGuid().ToString("N")[..8];
        var options = new S3StoreOptions(server.Endpoint, "NOT-S3RVER", "not-the-secret");
        using var store = new S3Store(S3rver.Bucket, prefix, options);
        var e = await Assert.ThrowsAsync<DepotException>(() => BuildCache.OpenForWriteAsync(store, null, Token));
        Assert.Contains("access denied", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingBucketIsNotTakenForAnEmptyMirror()
    {
        var options = new S3StoreOptions(server.Endpoint, "S3RVER", "S3RVER");
        using var store = new S3Store("no-such-bucket-here", "", options);
        var e = await Assert.ThrowsAsync<DepotException>(() => BuildCache.OpenForWriteAsync(store, null, Token));
        Assert.Contains("no such bucket", e.Message, StringComparison.Ordinal);
    }
}
