using Depot.Layout;
using Depot.Operations;
using Depot.Storage;
using Depot.Storage.S3;

namespace Depot.Tests.Storage;

/// <summary>A push killed (SIGKILL, a real process) during a multipart upload to S3 leaves no visible object.</summary>
public sealed class S3InterruptedPushTests(S3rver server) : IClassFixture<S3rver>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KilledDuringAMultipartUploadLeavesNothingVisibleAndTheNextPushCompletes()
    {
        using var tree = new TempDir();
        var (small, big) = KilledPush.BuildTree(tree.Path, seed: 2);
        using var home = new TempDir();
        using var staging = new TempDir();
        var prefix = "killed-" + Guid.NewGuid().ToString("N")[..8];
        var mirror = $"s3://{S3rver.Bucket}/{prefix}";
        await KilledPush.RunAndKillAsync(mirror, tree.Path, home.Path, staging.Path, new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = server.Endpoint,
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
            ["AWS_REGION"] = "us-east-1",
        }, Token);

        using var store = new S3Store(S3rver.Bucket, prefix, new S3StoreOptions(server.Endpoint, "S3RVER", "S3RVER"));
        var keys = await ((IObjectStore)store).ListKeysAsync("", Token).ToListAsync(Token);
        Assert.DoesNotContain(keys, k => k.Contains(big, StringComparison.Ordinal));
        foreach (var manifestKey in keys.Where(k => k.EndsWith(".spec.manifest.json", StringComparison.Ordinal)))
        {
            var manifest = BuildCacheManifest.Parse(await store.ReadAllBytesAsync(manifestKey,
                cancellationToken: Token), manifestKey);
            foreach (var blob in manifest.Records)
            {
                Assert.Equal(blob.ContentLength, (await store.GetInfoAsync(blob.BlobKey, Token))?.Length);
            }
        }

        // Only complete objects are visible: every blob's content hashes to its name.
        foreach (var blobKey in keys.Where(k => k.StartsWith("blobs/", StringComparison.Ordinal)))
        {
            var bytes = await store.ReadAllBytesAsync(blobKey, cancellationToken: Token);
            Assert.Equal(blobKey[(blobKey.LastIndexOf('/') + 1)..],
                Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        }

        var again = await PushAgainAsync(store, tree.Path);
        Assert.Equal(PushStatus.Pushed, again.Outcomes.Single(o => o.Hash == big).Status);
        Assert.NotEqual(PushStatus.Failed, again.Outcomes.Single(o => o.Hash == small).Status);
        var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Equal(2, listed.Rows.Count);
    }

    private static async Task<PushResult> PushAgainAsync(IObjectStore store, string tree)
    {
        var db = await Depot.InstallTree.InstallDatabase.ReadAsync(tree, cancellationToken: Token);
        return await PushOperation.RunAsync(Mirror.Of(store), db, Depot.InstallTree.PushSelection.Select(db, [],
            all: true), new PushOptions(), null,
            Token);
    }
}
