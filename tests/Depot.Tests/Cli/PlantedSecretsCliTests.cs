using System.Text;
using Depot.Serving;
using Depot.Tests.Server;
using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// Issue 21: a known secret planted in each credential source — an S3 session token, an Azure connection string's
/// account key, an OCI registry password, a serve token — never appears in anything a command prints: its output,
/// its errors (the exception messages the CLI renders), its <c>--json</c> document, or the server's request log. Each
/// source runs every mirror command on a mirror that accepts the secret (with and without <c>--json</c>) and a few on
/// one that refuses it; the secret is looked for raw, base64'd, as a Basic login and URL-encoded.
/// </summary>
public sealed class PlantedSecretsCliTests(S3rver s3, Azurite azurite, BasicAuthRegistry registry) : CliTestBase,
    IClassFixture<S3rver>, IClassFixture<Azurite>, IClassFixture<BasicAuthRegistry>
{
    private const string Variable = "DEPOT_PLANTED_SECRET";
    private const string S3SessionToken = "planted-s3-session-token-6b1f0c2e9d";
    private const string WrongAzureKey =
        "cGxhbnRlZC1henVyZS1rZXktbm90LWF6dXJpdGVzLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDE=";

    private readonly List<string> seen = [];

    [Fact]
    public async Task AnS3SessionTokenNeverShows()
    {
        Variables["DEPOT_S3_KEY"] = "S3RVER";
        Variables[Variable] = S3SessionToken;
        await AddMirrorAsync($"s3://{S3rver.Bucket}/planted-{Unique()}", "--s3-access-key-id", "S3RVER",
            "--s3-access-key-secret-variable", "DEPOT_S3_KEY", "--s3-access-token-variable", Variable,
            "--endpoint-url", s3.Endpoint);
        await RunEveryCommandAsync();
        AssertNeverShown(S3SessionToken, "S3RVER");
    }

    [Fact]
    public async Task AnAzureAccountKeyNeverShowsAcceptedOrRefused()
    {
        Variables[Variable] = azurite.ConnectionString;
        await AddMirrorAsync($"azure://devstoreaccount1/planted/{Unique()}", "--azure-connection-string-variable",
            Variable);
        await RunEveryCommandAsync();
        AssertNeverShown(Azurite.AccountKey);

        Variables[Variable] = azurite.ConnectionString.Replace(Azurite.AccountKey, WrongAzureKey,
            StringComparison.Ordinal);
        await RunRefusedAsync();
        AssertNeverShown(WrongAzureKey);
    }

    [Fact]
    public async Task AnOciPasswordNeverShowsAcceptedOrRefused()
    {
        Variables[Variable] = BasicAuthRegistry.Password;
        await AddMirrorAsync(registry.Url("planted/" + Unique()), "--oci-username", BasicAuthRegistry.User,
            "--oci-password-variable", Variable);
        await RunEveryCommandAsync();
        AssertNeverShown(BasicAuthRegistry.Password, BasicAuthRegistry.User);

        Variables[Variable] = "planted-wrong-registry-password-3c9e";
        await RunRefusedAsync();
        AssertNeverShown(Variables[Variable], BasicAuthRegistry.User);
    }

    [Fact]
    public async Task AServeTokenNeverShowsInTheClientOrTheServersLog()
    {
        using var behind = new TempDir();
        var requestLog = new StringWriter();
        string token;
        await using (var server = await TokenServer.StartAsync([new ServedCacheConfig("c", behind.Path)
        {
            SignWith = "6640D90F8A1E84DD1142614C06BD5C3F48A372CC",
        }], withFixtureKey: true, requestLog: TextWriter.Synchronized(requestLog)))
        {
            token = await server.TokenAsync("c", TokenScope.Push);
            Variables[Variable] = token;
            await AddMirrorAsync(server.Url("c"), "--token-variable", Variable);
            await RunEveryCommandAsync(served: true);
            AssertNeverShown(token);

            var wrong = "dpt_0123456789ab_" + new string('q', 43);
            Variables[Variable] = wrong;
            await RunRefusedAsync();
            AssertNeverShown(wrong);

            // Spack's way in: the token in the URL path; the server logs the request, never the token.
            using var client = new HttpClient();
            var url = new Uri(server.Server.BaseUrls[0], $"/_t/{token}/c/v3/layout.json");
            using var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
            seen.Add(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        var log = requestLog.ToString();
        Assert.Contains("layout.json", log, StringComparison.Ordinal); // the request was logged
        seen.Add(log);
        AssertNeverShown(token);
    }

    private static string Unique() => Guid.NewGuid().ToString("N")[..8];

    private async Task AddMirrorAsync(params string[] args)
    {
        Assert.Equal(0, (await RunAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"))).Code);
        var (code, output, error) = await RunAsync(["mirror", "add", "m", .. args]);
        seen.Add(output + error);
        Assert.True(code == 0, error);
        seen.Add(await File.ReadAllTextAsync(Path.Combine(Home.Path, "config.yaml"),
            TestContext.Current.CancellationToken));
    }

    /// <summary>Every mirror command on mirror <c>m</c>, each once plainly (must succeed) and once with
    /// <c>--json</c>. A <paramref name="served"/> cache is indexed and keyed by its server: no index or keys
    /// publish.</summary>
    private async Task RunEveryCommandAsync(bool served = false)
    {
        var tree = TestData.Path("spack-1.2/install-tree");
        var root = Path.Combine(Scratch.Path, "root");
        string[][] commands =
        [
            ["push", "m", "--all", "--install-tree", tree],
            ["index", "m"],
            ["list", "m", "-L"],
            ["verify", "m"],
            ["install", "greet", "--from", "m", "--root", root],
            ["copy", "m", Path.Combine(Scratch.Path, "copy")],
            ["keys", "publish", "m"],
            ["keys", "trust", "m", "--all"],
            ["stats", "m"],
            ["mirror", "check", "m"],
            ["mirror", "list"],
        ];
        foreach (var command in commands.Where(c => !served || c[0] != "index" && c[1] != "publish"))
        {
            var (code, output, error) = await RunAsync(command);
            seen.Add(output + error);
            Assert.True(code == 0, $"depot {string.Join(' ', command)}: {error}{output}");
            var (_, json, jsonError) = await RunAsync([.. command, "--json"]);
            seen.Add(json + jsonError);
        }
    }

    /// <summary>Commands on a mirror that refuses the credentials: they fail, and their errors name no
    /// secret.</summary>
    private async Task RunRefusedAsync()
    {
        string[][] commands =
        [
            ["list", "m"], ["push", "m", "--all", "--install-tree", TestData.Path("spack-1.2/install-tree")],
            ["verify", "m"], ["mirror", "check", "m"],
        ];
        foreach (var command in commands)
        {
            var (code, output, error) = await RunAsync(command);
            seen.Add(output + error);
            Assert.NotEqual(0, code);
            var (_, json, jsonError) = await RunAsync([.. command, "--json"]);
            seen.Add(json + jsonError);
        }
    }

    private void AssertNeverShown(string secret, string? user = null)
    {
        Assert.True(secret.Length >= 8, "a planted secret must be distinctive");
        var forms = new List<string>
        {
            secret,
            Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)),
            Uri.EscapeDataString(secret),
        };
        if (user is not null)
        {
            forms.Add(Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + secret)));
        }

        foreach (var text in seen)
        {
            foreach (var form in forms)
            {
                Assert.DoesNotContain(form, text, StringComparison.Ordinal);
            }
        }
    }
}
