using System.Diagnostics;
using System.Text.Json;
using Depot.Storage;
using Depot.Storage.Gcs;

namespace Depot.Tests.Storage;

/// <summary>
/// A GCS store whose credentials are refused, against the in-test fake of the JSON API (the one fake: no emulator
/// exists here), and one whose endpoint is not there: reads and writes fail with an authentication error naming where
/// the credentials came from (never the key), or an I/O error naming the endpoint, promptly.
/// </summary>
public sealed class GcsStoreFailureTests(FakeGcsServer server) : IClassFixture<FakeGcsServer>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static string PrivateKeyOf(string keyFile) =>
        JsonDocument.Parse(File.ReadAllText(keyFile)).RootElement.GetProperty("private_key").GetString()!;

    // Every way a store is read or written: each one refused alike.
    private static IEnumerable<(string Operation, Func<Task> Run)> ReadsAndWrites(GcsStore store) =>
    [
        ("info", () => store.GetInfoAsync("v3/layout.json", Token)),
        ("read", async () => await (await store.OpenReadAsync("v3/layout.json", Token)).DisposeAsync()),
        ("list", async () => await store.ListAsync("v3/", Token).CountAsync(Token)),
        ("write", () => store.WriteAllTextAsync("v3/layout.json", "{}", Token)),
        ("delete", () => store.DeleteAsync("v3/layout.json", Token)),
    ];

    private static async Task AssertEachIsAsync(GcsStore store, string? keyFile, ErrorKind kind,
        params string[] phrases)
    {
        foreach (var (operation, run) in ReadsAndWrites(store))
        {
            var e = await Assert.ThrowsAsync<DepotException>(run);
            Assert.True(e.Kind == kind, $"{operation}: {e.Kind}: {e.Message}");
            Assert.StartsWith(store.Root + "/v3/", e.Message, StringComparison.Ordinal);
            Assert.All(phrases, p => Assert.True(e.Message.Contains(p, StringComparison.Ordinal),
                $"{operation}: '{p}' not in: {e.Message}"));
            Assert.DoesNotContain("PRIVATE KEY", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", e.Message, StringComparison.Ordinal);
            if (keyFile is not null)
            {
                Assert.All(PrivateKeyOf(keyFile).Split('\n').Where(l => l.Length > 20 && !l.StartsWith('-')),
                    l => Assert.DoesNotContain(l, e.Message, StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task AKeyFileWithoutARoleOnTheBucketIsAccessDeniedNamingTheKeyFileOnReadAndWrite()
    {
        using var home = new TempDir();
        var key = server.WriteServiceAccountKey(home.Path, FakeGcsServer.DeniedTokenPath);
        var store = new GcsStore("depot-test", "denied", keyFile: key, endpoint: server.BaseUri);
        await AssertEachIsAsync(store, key, ErrorKind.Authentication, "access denied (403)",
            $"key file {key} (from the mirror configuration)", "does not have storage.objects.get access");
    }

    [Fact]
    public async Task ATokenStorageRejectsIsA401NamingGoogleApplicationCredentialsOnReadAndWrite()
    {
        using var home = new TempDir();
        var key = server.WriteServiceAccountKey(home.Path, FakeGcsServer.UnknownTokenPath);
        var environment = EnvironmentVariables.From(new Dictionary<string, string>
        {
            ["GOOGLE_APPLICATION_CREDENTIALS"] = key,
        });
        var store = new GcsStore("depot-test", "unknown", endpoint: server.BaseUri, environment: environment);
        await AssertEachIsAsync(store, key, ErrorKind.Authentication, "credentials refused (401)",
            $"key file {key} (from GOOGLE_APPLICATION_CREDENTIALS)");
    }

    [Fact]
    public async Task AKeyWhoseTokenGrantIsRefusedIsAnAuthenticationErrorNamingTheKeyFile()
    {
        using var home = new TempDir();
        var key = server.WriteServiceAccountKey(home.Path, FakeGcsServer.RefusedTokenPath);
        var store = new GcsStore("depot-test", "refused", keyFile: key, endpoint: server.BaseUri);
        await AssertEachIsAsync(store, key, ErrorKind.Authentication, "no token for",
            $"key file {key} (from the mirror configuration)", "invalid_grant");
    }

    [Fact]
    public async Task AnEndpointNobodyListensOnIsAnIOErrorNamingItWithinSeconds()
    {
        var endpoint = $"http://127.0.0.1:{TestServer.FreePort()}";
        var clock = Stopwatch.StartNew();
        await AssertEachIsAsync(new GcsStore("depot-test", "gone", endpoint: endpoint, anonymous: true), null,
            ErrorKind.IO,
            $"cannot reach {endpoint}/storage/v1/");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed.TotalSeconds:F1} s");
    }
}
