using System.Text.Json.Nodes;
using Depot.Cli;
using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// S3 (s3rver), Azure (Azurite) and GCS (the in-test fake) mirrors whose credentials the service refuses:
/// <c>list</c> and <c>push</c> exit with the authentication code and one line naming where the credentials came from,
/// never the secret; <c>mirror check</c> reports the failing step as an authentication failure.
/// </summary>
public sealed class RefusedCredentialsCliTests(S3rver s3, Azurite azurite, FakeGcsServer gcs) : CliTestBase,
    IClassFixture<S3rver>, IClassFixture<Azurite>, IClassFixture<FakeGcsServer>
{
    // A well-formed account key that is not Azurite's.
    private const string WrongAzureKey =
        "ZGVwb3QtdGVzdC13cm9uZy1henVyZS1hY2NvdW50LWtleS14eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==";

    private const string WrongS3Secret = "not-the-s3rver-secret-0123456789";

    public static TheoryData<string, string> Cases => MirrorCommandLines.EveryCloudAndCommand();

    // Adds mirror 'm' with refused credentials; returns where they come from (what the error must name) and the
    // secret (what it must not).
    private async Task<(string Source, string Secret)> AddRefusedMirrorAsync(string cloud)
    {
        var unique = "refused-" + Guid.NewGuid().ToString("N")[..8];
        string[] args;
        (string, string) expected;
        switch (cloud)
        {
            case "s3":
                Variables["DEPOT_TEST_S3_SECRET"] = WrongS3Secret;
                args = [$"s3://{S3rver.Bucket}/{unique}", "--s3-access-key-id", "NOT-S3RVER",
                    "--s3-access-key-secret-variable", "DEPOT_TEST_S3_SECRET", "--endpoint-url", s3.Endpoint];
                expected = ("access key id NOT-S3RVER", WrongS3Secret);
                break;
            case "azure":
                Variables["DEPOT_TEST_AZURE"] = azurite.ConnectionString.Replace(Azurite.AccountKey, WrongAzureKey,
                    StringComparison.Ordinal);
                args = [$"azure://devstoreaccount1/depot-cli/{unique}", "--azure-connection-string-variable",
                    "DEPOT_TEST_AZURE"];
                expected = ("the connection string's key of account devstoreaccount1", WrongAzureKey);
                break;
            default:
                var key = gcs.WriteServiceAccountKey(Scratch.Path, FakeGcsServer.DeniedTokenPath);
                args = [$"gs://depot-test/{unique}", "--gcs-key-file", key, "--endpoint-url", gcs.BaseUri];
                var pem = System.Text.Json.JsonDocument.Parse(File.ReadAllText(key)).RootElement
                    .GetProperty("private_key").GetString()!.Split('\n')[1];
                expected = ($"key file {key}", pem);
                break;
        }

        var (code, _, error) = await RunAsync(["mirror", "add", "m", .. args, "--unsigned"]);
        Assert.True(code == 0, error);
        return expected;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task RefusedCredentialsAreOneAuthenticationLineNamingTheirSourceNeverTheSecret(string cloud,
        string command)
    {
        var (source, secret) = await AddRefusedMirrorAsync(cloud);
        if (MirrorCommandLines.NeedsKey(command))
        {
            Assert.Equal(0, (await RunAsync("keys", "create", "Refused", "r@example.invalid", "--algorithm",
                "ed25519")).Code);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = command == "check"
            ? await RunAsync("mirror", "check", "m", "--json")
            : await RunAsync(MirrorCommandLines.For(command, "m", Scratch.Path));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.DoesNotContain(secret, run.Out + run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Out + run.Err, StringComparison.Ordinal);
        if (command == "check")
        {
            Assert.Equal(ExitCodes.Failed, run.Code);
            var failed = Assert.Single(JsonNode.Parse(run.Out)!["steps"]!.AsArray(), s => !(bool)s!["ok"]!)!;
            Assert.Equal("layout", (string)failed["step"]!);
            Assert.Equal("authentication", (string)failed["kind"]!);
            Assert.Contains(source, (string)failed["error"]!, StringComparison.Ordinal);
            return;
        }

        Assert.True(run.Code == ExitCodes.Authentication, run.Err + run.Out);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: error: ", line, StringComparison.Ordinal);
        Assert.Contains(source, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedAzureConnectionStringIsOneUsageLineNotACrashAndNotShown()
    {
        Variables["DEPOT_TEST_AZURE"] = "AccountKey=" + WrongAzureKey; // no account name, no endpoint
        Assert.Equal(0, (await RunAsync("mirror", "add", "m", "azure://devstoreaccount1/depot-cli/malformed",
            "--azure-connection-string-variable", "DEPOT_TEST_AZURE", "--unsigned")).Code);
        var run = await RunAsync("list", "m");
        Assert.Equal(ExitCodes.Usage, run.Code);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("connection string is malformed", line, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongAzureKey, run.Out + run.Err, StringComparison.Ordinal);
    }
}
