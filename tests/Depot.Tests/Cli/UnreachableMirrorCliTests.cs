using Depot.Cli;
using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// A mirror whose server is not there (nothing listens on a 127.0.0.1 port): <c>list</c> and <c>push</c> fail with
/// one line naming the URL and the I/O exit code, no stack trace, within seconds; <c>mirror check</c> reports the
/// failing step with the URL and exits non-zero.
/// </summary>
public sealed class UnreachableMirrorCliTests : CliTestBase
{
    public static TheoryData<string> Urls => new()
    {
        "http://127.0.0.1:{0}/mirror",
        "oci+http://127.0.0.1:{0}/depot/mirror",
    };

    private static string Unreachable(string pattern) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, pattern, TestServer.FreePort());

    private static void AssertOneLineNaming(string url, (int Code, string Out, string Err) run)
    {
        Assert.Equal(ExitCodes.IO, run.Code);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: error: ", line, StringComparison.Ordinal);
        var hostPort = new Uri(url.Replace("oci+http", "http", StringComparison.Ordinal)).Authority;
        Assert.Contains(hostPort, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Err, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Urls))]
    public async Task ListIsOneIOErrorLineNamingTheUrl(string pattern)
    {
        var url = Unreachable(pattern);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        AssertOneLineNaming(url, await RunAsync("list", url));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed.TotalSeconds:F1} s");
    }

    // The run stops at the first request that cannot reach the registry (before: about 28 s, every entry retried and
    // reported FAILED on its own line).
    [Fact]
    public async Task PushToAnUnreachableRegistryStopsWithinSecondsWithOneIOErrorNamingItAndNoStackTrace()
    {
        var url = Unreachable("oci+http://127.0.0.1:{0}/depot/mirror");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = await RunAsync("push", url, "--all", "--unsigned", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(ExitCodes.IO, run.Code);
        Assert.DoesNotContain("FAILED", run.Out + run.Err, StringComparison.Ordinal);
        var hostPort = new Uri(url.Replace("oci+http", "http", StringComparison.Ordinal)).Authority;
        var errors = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("depot: error: ", StringComparison.Ordinal)).ToList();
        Assert.Contains(hostPort, Assert.Single(errors), StringComparison.Ordinal);
        Assert.All((run.Out + run.Err).Split('\n', StringSplitOptions.RemoveEmptyEntries),
            l => Assert.Contains($"cannot reach registry {hostPort}", l, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", run.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushToAnUnreachableHttpMirrorIsOneIoLineNamingTheServerItAsked()
    {
        // An http(s) mirror may be a Depot server (depot serve), which takes pushes: push asks it first.
        var url = Unreachable("http://127.0.0.1:{0}/mirror");
        var run = await RunAsync("push", url, "--all", "--unsigned", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.Equal(ExitCodes.IO, run.Code);
        Assert.Contains(url + "/_depot/v1/info", Assert.Single(run.Err.Split('\n',
            StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Urls))]
    public async Task MirrorCheckReportsTheFailingStepWithTheUrlAndExitsNonZero(string pattern)
    {
        var url = Unreachable(pattern);
        var run = await RunAsync("mirror", "check", url);
        Assert.NotEqual(0, run.Code);
        var hostPort = new Uri(url.Replace("oci+http", "http", StringComparison.Ordinal)).Authority;
        Assert.Contains(hostPort, run.Out + run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Out + run.Err, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> CloudCases => MirrorCommandLines.EveryCloudAndCommand();

    // A cloud mirror URL whose service endpoint (given as its SDK's variable, in this test's environment only) is a
    // 127.0.0.1 port nobody listens on; returns the URL and that host:port.
    private string UnreachableCloud(string cloud)
    {
        var hostPort = $"127.0.0.1:{TestServer.FreePort()}";
        switch (cloud)
        {
            case "s3":
                Variables["AWS_ENDPOINT_URL"] = "http://" + hostPort;
                Variables["AWS_ACCESS_KEY_ID"] = "S3RVER";
                Variables["AWS_SECRET_ACCESS_KEY"] = "S3RVER";
                Variables["AWS_REGION"] = "us-east-1";
                return $"s3://{S3rver.Bucket}/mirror";
            case "azure":
                Variables["AZURE_STORAGE_CONNECTION_STRING"] = "DefaultEndpointsProtocol=http;"
                    + $"AccountName=devstoreaccount1;AccountKey={Azurite.AccountKey};"
                    + $"BlobEndpoint=http://{hostPort}/devstoreaccount1;";
                return "azure://devstoreaccount1/depot/mirror";
            default:
                Variables["STORAGE_EMULATOR_HOST"] = hostPort;
                return "gs://depot-test/mirror";
        }
    }

    [Theory]
    [MemberData(nameof(CloudCases))]
    public async Task ACloudMirrorWhoseEndpointIsNotThereIsOneIOErrorLineNamingItWithinSeconds(string cloud,
        string command)
    {
        var url = UnreachableCloud(cloud);
        var hostPort = (Variables.GetValueOrDefault("STORAGE_EMULATOR_HOST")
            ?? new Uri(Variables.GetValueOrDefault("AWS_ENDPOINT_URL")
                ?? Variables["AZURE_STORAGE_CONNECTION_STRING"].Split("BlobEndpoint=")[1].TrimEnd(';')).Authority);
        if (MirrorCommandLines.NeedsKey(command))
        {
            Assert.Equal(0, (await RunAsync("keys", "create", "Unreachable", "u@example.invalid", "--algorithm",
                "ed25519")).Code);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = command == "check"
            ? await RunAsync("mirror", "check", url, "--json")
            : await RunAsync(MirrorCommandLines.For(command, url, Scratch.Path));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.DoesNotContain("   at ", run.Out + run.Err, StringComparison.Ordinal);
        if (command == "check")
        {
            Assert.Equal(ExitCodes.Failed, run.Code);
            var failed = Assert.Single(System.Text.Json.Nodes.JsonNode.Parse(run.Out)!["steps"]!.AsArray(),
                s => !(bool)s!["ok"]!)!;
            Assert.Equal(("layout", "io"), ((string)failed["step"]!, (string)failed["kind"]!));
            Assert.Contains(hostPort, (string)failed["error"]!, StringComparison.Ordinal);
            return;
        }

        Assert.True(run.Code == ExitCodes.IO, run.Err + run.Out);
        var errors = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(hostPort, Assert.Single(errors), StringComparison.Ordinal);
        Assert.StartsWith("depot: error: ", errors[0], StringComparison.Ordinal);
    }
}
