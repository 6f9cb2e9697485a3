using System.Text.Json.Nodes;
using Depot.Cli;
using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// S3 (s3rver), Azure (Azurite's account) and GCS (the in-test fake) mirrors configured with no credentials at all,
/// in a run whose environment holds none (no key variables, an empty home, no metadata server): <c>list</c> is one
/// authentication line naming the mirror, the sources tried and the fix; <c>mirror check --write</c> reports the
/// failing steps and goes on to the next. The test process itself holds no AWS or Azure credentials (no variables,
/// no ~/.aws, not on a cloud VM), which the SDKs' own default chains would otherwise find.
/// </summary>
public sealed class MissingCredentialsCliTests(S3rver s3, FakeGcsServer gcs) : CliTestBase,
    IClassFixture<S3rver>, IClassFixture<FakeGcsServer>
{
    public static TheoryData<string> Clouds
    {
        get
        {
            var clouds = new TheoryData<string>();
            foreach (var cloud in new[] { "s3", "azure", "gs" })
            {
                clouds.Add(cloud);
            }

            return clouds;
        }
    }

    // Mirror 'm' with no credential settings; the run sees an empty home and no metadata server. Returns what the
    // error must name: the mirror, the sources tried, the fix.
    private async Task<string[]> AddMirrorWithoutCredentialsAsync(string cloud)
    {
        var unique = "nocreds-" + Guid.NewGuid().ToString("N")[..8];
        Variables["HOME"] = Scratch.Path;
        Variables["CLOUDSDK_CONFIG"] = Path.Combine(Scratch.Path, "gcloud");
        Variables["GCE_METADATA_HOST"] = "127.0.0.1:9";
        var (args, expected) = cloud switch
        {
            "s3" => ((string[])[$"s3://{S3rver.Bucket}/{unique}", "--endpoint-url", s3.Endpoint],
                (string[])[$"s3://{S3rver.Bucket}/{unique}", "no AWS credentials found", "AWS_ACCESS_KEY_ID",
                    "~/.aws/credentials", "instance roles", "give the mirror an access_pair or a profile"]),
            "azure" => ([$"azure://devstoreaccount1/depot-cli/{unique}"],
                [$"azure://devstoreaccount1/depot-cli/{unique}", "no Azure credentials found",
                    "AZURE_STORAGE_CONNECTION_STRING", "DefaultAzureCredential", "az login"]),
            _ => ([$"gs://depot-test/{unique}", "--endpoint-url", gcs.BaseUri],
                [$"gs://depot-test/{unique}", "no Google credentials", "GOOGLE_APPLICATION_CREDENTIALS is not set",
                    "application_default_credentials.json does not exist",
                    "metadata server http://127.0.0.1:9/computeMetadata/v1/: not reachable",
                    "give the mirror a gcs_key_file"]),
        };
        var (code, _, error) = await RunAsync(["mirror", "add", "m", .. args, "--unsigned"]);
        Assert.True(code == 0, error);
        return expected;
    }

    [Theory]
    [MemberData(nameof(Clouds))]
    public async Task NoCredentialsAnywhereIsOneAuthenticationLineNamingTheSourcesTriedAndTheFix(string cloud)
    {
        var expected = await AddMirrorWithoutCredentialsAsync(cloud);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = await RunAsync("list", "m");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(run.Code == ExitCodes.Authentication, $"exit {run.Code}: {run.Err}{run.Out}");
        Assert.Equal("", run.Out);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: error: ", line, StringComparison.Ordinal);
        Assert.All(expected, part => Assert.Contains(part, line, StringComparison.Ordinal));
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Clouds))]
    public async Task MirrorCheckReportsMissingCredentialsAsFailedStepsAndGoesOn(string cloud)
    {
        var expected = await AddMirrorWithoutCredentialsAsync(cloud);

        var run = await RunAsync("mirror", "check", "m", "--write", "--json");

        Assert.Equal(ExitCodes.Failed, run.Code);
        Assert.Equal("", run.Err);
        var steps = JsonNode.Parse(run.Out)!["steps"]!.AsArray();
        Assert.True((bool)steps.Single(s => (string)s!["step"]! == "configuration")!["ok"]!);
        var layout = steps.Single(s => (string)s!["step"]! == "layout")!;
        Assert.False((bool)layout["ok"]!);
        Assert.Equal("authentication", (string)layout["kind"]!);
        Assert.All(expected, part => Assert.Contains(part, (string)layout["error"]!, StringComparison.Ordinal));

        // After the failed layout step the check went on to the write probe, which fails the same way.
        var probe = steps.Single(s => (string)s!["step"]! == "write and delete a probe")!;
        Assert.False((bool)probe["ok"]!);
        Assert.Equal("authentication", (string)probe["kind"]!);
    }
}
