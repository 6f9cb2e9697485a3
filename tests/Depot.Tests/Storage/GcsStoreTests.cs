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
    public async Task WithoutCredentialsTheErrorNamesEverySourceTried()
    {
        using var home = new TempDir();
        var saved = (Environment.GetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS"),
            Environment.GetEnvironmentVariable("CLOUDSDK_CONFIG"),
            Environment.GetEnvironmentVariable("STORAGE_EMULATOR_HOST"),
                Environment.GetEnvironmentVariable("GCE_METADATA_HOST"));
        try
        {
            Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS",
                Path.Combine(home.Path, "missing.json"));
            Environment.SetEnvironmentVariable("CLOUDSDK_CONFIG", home.Path);
            Environment.SetEnvironmentVariable("STORAGE_EMULATOR_HOST", null);
            Environment.SetEnvironmentVariable("GCE_METADATA_HOST", "127.0.0.1:9");
            var store = new GcsStore("bucket", "p");
            var e = await Assert.ThrowsAsync<DepotException>(() => store.GetInfoAsync("v3/layout.json", Token));
            Assert.Contains("gs://bucket/p/v3/layout.json: no Google credentials", e.Message, StringComparison.Ordinal);
            Assert.Contains("GOOGLE_APPLICATION_CREDENTIALS names " + Path.Combine(home.Path, "missing.json")
                + ", which does not exist", e.Message, StringComparison.Ordinal);
            Assert.Contains("gcloud ADC file", e.Message, StringComparison.Ordinal);
            Assert.Contains("metadata server", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", saved.Item1);
            Environment.SetEnvironmentVariable("CLOUDSDK_CONFIG", saved.Item2);
            Environment.SetEnvironmentVariable("STORAGE_EMULATOR_HOST", saved.Item3);
            Environment.SetEnvironmentVariable("GCE_METADATA_HOST", saved.Item4);
        }
    }

    [Fact]
    public async Task AServiceAccountKeyInGoogleApplicationCredentialsIsUsed()
    {
        using var home = new TempDir();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var key = Path.Combine(home.Path, "sa.json");
        File.WriteAllText(key, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = "depot-test",
            ["private_key_id"] = "k1",
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "depot@depot-test.iam.gserviceaccount.com",
            ["client_id"] = "1",
            ["token_uri"] = server.BaseUri + "/token",
        }));
        var saved = Environment.GetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS");
        server.RequireToken = true;
        try
        {
            Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", key);
            var store = new GcsStore("depot-test", "sa-" + Guid.NewGuid().ToString("N")[..8],
                endpoint: server.BaseUri + "/storage/v1/");
            await store.WriteAllTextAsync("v3/layout.json", "{}", Token);
            Assert.Equal("{}",
                System.Text.Encoding.UTF8.GetString(await store.ReadAllBytesAsync("v3/layout.json",
                    cancellationToken: Token)));
            Assert.Contains(FakeGcsServer.AccessToken, server.BearerTokens);

            File.WriteAllText(key, "{ not json");
            var broken = new GcsStore("depot-test", "sa", endpoint: server.BaseUri + "/storage/v1/");
            var e = await Assert.ThrowsAsync<DepotException>(() => broken.GetInfoAsync("v3/layout.json", Token));
            Assert.Contains("no Google credentials", e.Message, StringComparison.Ordinal);
            Assert.Contains(key, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            server.RequireToken = false;
            Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", saved);
        }
    }
}
