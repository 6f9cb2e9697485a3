using System.Net;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;
using Depot.Storage.S3;
using Depot.Tests.Storage;

namespace Depot.Tests.Server;

/// <summary>
/// Commits from several pushers at once, over a directory and over s3rver: every entry ends up in the index (index
/// runs are coalesced per cache, and written conditionally).
/// </summary>
public sealed class ConcurrentCommitTests(S3rver s3) : IClassFixture<S3rver>
{
    private const int Pushers = 4;
    private const int EntriesEach = 10;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OnADirectoryEveryConcurrentCommitIsIndexed()
    {
        using var mirror = new TempDir();
        var store = new LocalDirectoryStore(mirror.Path);
        await PushConcurrentlyAsync(store, mirror.Path, null);
    }

    [Fact]
    public async Task OnS3EveryConcurrentCommitIsIndexed()
    {
        var prefix = "served-" + Guid.NewGuid().ToString("N")[..8];
        var url = $"s3://{S3rver.Bucket}/{prefix}";
        using var store = new S3Store(S3rver.Bucket, prefix, new S3StoreOptions(s3.Endpoint, "S3RVER", "S3RVER"));
        await PushConcurrentlyAsync(store, url, u => u == url ? store : null);
    }

    /// <summary>Two server processes over one store (replicas): their commits all end up in the index.</summary>
    [Fact]
    public async Task TwoServersOverOneStoreBehaveAsOne()
    {
        using var mirror = new TempDir();
        var cache = UploadEndpointsTests.Cache("c", mirror.Path, allowUnsigned: true);
        await using var a = await UploadServer.StartAsync([cache], false);
        await using var b = await UploadServer.StartAsync([cache], false);
        var entries = Enumerable.Range(0, 2 * EntriesEach).Select(i => PushedEntry.Synthetic($"3.{i}")).ToList();
        await Task.WhenAll(entries.Select((e, i) => Task.Run(async () =>
        {
            using var response = await (i % 2 == 0 ? a : b).PushAsync("c", e);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }, Token)));
        var index = (await new BuildCacheV3(new LocalDirectoryStore(mirror.Path)).ReadIndexAsync(Token))!;
        Assert.Equal(entries.Count, index.CachedSpecs.Count());
    }

    private static async Task PushConcurrentlyAsync(IObjectStore store, string mirror,
        Func<string, IStoreReader?>? stores)
    {
        await using var server = await UploadServer.StartAsync(
            [UploadEndpointsTests.Cache("c", mirror, allowUnsigned: true)], false, stores: stores);
        var entries = Enumerable.Range(0, Pushers * EntriesEach).Select(i => PushedEntry.Synthetic($"2.{i}"))
            .ToList();
        await Task.WhenAll(Enumerable.Range(0, Pushers).Select(p => Task.Run(async () =>
        {
            foreach (var entry in entries.Skip(p * EntriesEach).Take(EntriesEach))
            {
                using var response = await server.PushAsync("c", entry);
                Assert.True(response.StatusCode == HttpStatusCode.Created,
                    await response.Content.ReadAsStringAsync(Token));
            }
        }, Token)));

        var layout = new BuildCacheV3(store);
        var index = (await layout.ReadIndexAsync(Token))!;
        Assert.Equal(entries.Count, index.CachedSpecs.Count());
        var runs = server.Server.Caches.Find("c")!.Writes.Index.Runs;
        Assert.InRange(runs, 1, entries.Count);
        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, TrustPolicy.None("served")),
            new VerifyOptions([]), null, Token);
        Assert.True(verified.Ok, string.Join("; ", verified.Failures.Select(f => f.Message)));
        Assert.Equal(entries.Count, verified.Checked);
    }
}
