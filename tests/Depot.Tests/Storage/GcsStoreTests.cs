using Depot.Storage;
using Depot.Storage.Gcs;

namespace Depot.Tests.Storage;

/// <summary>The store contract against the in-test fake of the GCS JSON API (the one fake: no emulator exists
/// here).</summary>
public sealed class GcsStoreTests(FakeGcsServer server) : StoreContractTests, IClassFixture<FakeGcsServer>
{
    protected override IObjectStore CreateStore() =>
        new GcsStore("depot-test", "mirror-" + Guid.NewGuid().ToString("N")[..8],
            endpoint: server.BaseUri + "/storage/v1/", anonymous: true);

    [Fact]
    public async Task RangesArriveAsTheyAreDownloaded()
    {
        // The fake holds the rest of the body until the gate opens: the first bytes must be readable before, so the
        // range is streamed, not downloaded whole first.
        var content = new byte[4 << 20];
        new Random(5).NextBytes(content);
        await Store.WriteAllBytesAsync("blobs/gated", content, Token);
        server.MediaGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await using var range = await Store.OpenReadRangeAsync("blobs/gated", 1 << 20, 2 << 20, Token)
                .WaitAsync(TimeSpan.FromSeconds(20), Token);
            var head = new byte[64 << 10];
            await range.ReadExactlyAsync(head, Token).AsTask().WaitAsync(TimeSpan.FromSeconds(20), Token);
            Assert.Equal(content.AsSpan(1 << 20, head.Length).ToArray(), head);
            server.MediaGate.SetResult();
            using var rest = new MemoryStream();
            await range.CopyToAsync(rest, Token);
            Assert.Equal(content.AsSpan((1 << 20) + head.Length, (2 << 20) - head.Length).ToArray(), rest.ToArray());
        }
        finally
        {
            server.MediaGate.TrySetResult();
            server.MediaGate = null;
        }
    }

    [Fact]
    public async Task AnAbandonedRangeStopsItsDownload()
    {
        var content = new byte[8 << 20];
        await Store.WriteAllBytesAsync("blobs/big", content, Token);
        var range = await Store.OpenReadRangeAsync("blobs/big", 0, null, Token);
        Assert.Equal(0, range.ReadByte());
        await range.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20), Token);
        Assert.Throws<ObjectDisposedException>(() => range.ReadByte());
    }

    [Fact]
    public async Task WithoutCredentialsTheErrorNamesEverySourceTried()
    {
        using var home = new TempDir();
        var environment = EnvironmentVariables.From(new Dictionary<string, string>
        {
            ["GOOGLE_APPLICATION_CREDENTIALS"] = Path.Combine(home.Path, "missing.json"),
            ["CLOUDSDK_CONFIG"] = home.Path,
            ["GCE_METADATA_HOST"] = "127.0.0.1:9",
        });
        var store = new GcsStore("bucket", "p", environment: environment);
        var e = await Assert.ThrowsAsync<DepotException>(() => store.GetInfoAsync("v3/layout.json", Token));
        Assert.Contains("gs://bucket/p/v3/layout.json: no Google credentials", e.Message, StringComparison.Ordinal);
        Assert.Contains("GOOGLE_APPLICATION_CREDENTIALS names " + Path.Combine(home.Path, "missing.json")
            + ", which does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains($"gcloud ADC file {home.Path}/application_default_credentials.json does not exist",
            e.Message, StringComparison.Ordinal);
        Assert.Contains("metadata server http://127.0.0.1:9/computeMetadata/v1/: not reachable", e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServiceAccountKeyInGoogleApplicationCredentialsIsUsed()
    {
        using var home = new TempDir();
        var key = server.WriteServiceAccountKey(home.Path);
        var environment = EnvironmentVariables.From(new Dictionary<string, string>
        {
            ["GOOGLE_APPLICATION_CREDENTIALS"] = key,
        });
        server.RequireToken = true;
        try
        {
            var store = new GcsStore("depot-test", "sa-" + Guid.NewGuid().ToString("N")[..8],
                endpoint: server.BaseUri + "/storage/v1/", environment: environment);
            await store.WriteAllTextAsync("v3/layout.json", "{}", Token);
            Assert.Equal("{}",
                System.Text.Encoding.UTF8.GetString(await store.ReadAllBytesAsync("v3/layout.json",
                    cancellationToken: Token)));
            Assert.Contains(FakeGcsServer.AccessToken, server.BearerTokens);

            File.WriteAllText(key, "{ not json");
            var broken = new GcsStore("depot-test", "sa", endpoint: server.BaseUri + "/storage/v1/",
                environment: environment);
            var e = await Assert.ThrowsAsync<DepotException>(() => broken.GetInfoAsync("v3/layout.json", Token));
            Assert.Contains("no Google credentials", e.Message, StringComparison.Ordinal);
            Assert.Contains(key, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            server.RequireToken = false;
        }
    }

    [Fact]
    public async Task WithoutKeyFilesTheMetadataServerThatGceMetadataHostNamesGivesTheToken()
    {
        using var home = new TempDir();
        var environment = EnvironmentVariables.From(new Dictionary<string, string>
        {
            ["CLOUDSDK_CONFIG"] = home.Path, // no gcloud ADC file there
            ["GCE_METADATA_HOST"] = server.HostAndPort,
        });
        server.RequireToken = true;
        try
        {
            var before = server.MetadataTokenRequests;
            var store = new GcsStore("depot-test", "md-" + Guid.NewGuid().ToString("N")[..8],
                endpoint: server.BaseUri, environment: environment); // a bare host: /storage/v1/ is added
            await store.WriteAllTextAsync("v3/layout.json", "{}", Token);
            Assert.NotNull(await store.GetInfoAsync("v3/layout.json", Token));
            Assert.True(server.MetadataTokenRequests > before, "no token was asked of the metadata server");
        }
        finally
        {
            server.RequireToken = false;
        }
    }
}
