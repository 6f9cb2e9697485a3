using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// Azure and GCS mirrors configured through the CLI, with the credential settings each URL form takes: Azure's
/// <c>azure://account/container</c> and <c>https://account.blob.core.windows.net/container</c> with
/// <c>--azure-connection-string-variable</c> (Azurite), <c>gs://</c> with <c>--gcs-key-file</c> and
/// <c>--endpoint-url</c> (the in-test GCS fake, which then asks for the key's token).
/// </summary>
public sealed class CloudMirrorCliTests(Azurite azurite, FakeGcsServer gcs) : CliTestBase, IClassFixture<Azurite>,
    IClassFixture<FakeGcsServer>
{
    private static readonly string Tree = TestData.Path("spack-0.21/install-tree");

    [Theory]
    [InlineData("azure://devstoreaccount1/depot-cli/")]
    [InlineData("https://devstoreaccount1.blob.core.windows.net/depot-cli/")]
    public async Task AnAzureMirrorUsesTheConnectionStringVariableItNamesInEitherUrlForm(string baseUrl)
    {
        var url = baseUrl + "az-" + Guid.NewGuid().ToString("N")[..8];
        var (code, _, error) = await RunAsync("mirror", "add", "az", url, "--azure-connection-string-variable",
            "DEPOT_TEST_AZURE", "--unsigned");
        Assert.True(code == 0, error);
        Assert.Contains("azure_connection_string_variable: DEPOT_TEST_AZURE",
            File.ReadAllText(Path.Combine(Home.Path, "config.yaml")), StringComparison.Ordinal);

        // Not set: refused before any request, naming the variable and the mirror.
        (code, _, error) = await RunAsync("push", "az", "greet-data", "--install-tree", Tree);
        Assert.Equal(Depot.Cli.ExitCodes.Usage, code);
        Assert.Contains("mirror 'az'", error, StringComparison.Ordinal);
        Assert.Contains("environment variable DEPOT_TEST_AZURE is not set", error, StringComparison.Ordinal);

        Variables["DEPOT_TEST_AZURE"] = azurite.ConnectionString;
        var (pushed, output, pushError) = await RunAsync("push", "az", "greet-data", "--install-tree", Tree);
        Assert.True(pushed == 0, pushError + output);
        Assert.Contains("pushed 1,", output, StringComparison.Ordinal);
        var (listed, specs, listError) = await RunAsync("list", "az", "-L");
        Assert.True(listed == 0, listError);
        Assert.Contains("zi66hh25uj52mbypxnkvycwkkbwphquj greet-data@1.0.0", specs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGsMirrorWithAKeyFileAndAnEndpointSendsTheKeysTokenToThatEndpoint()
    {
        var key = gcs.WriteServiceAccountKey(Scratch.Path);
        var url = "gs://depot-test/cli-" + Guid.NewGuid().ToString("N")[..8];
        var (code, _, error) = await RunAsync("mirror", "add", "g", url, "--gcs-key-file", key, "--endpoint-url",
            gcs.BaseUri, "--unsigned");
        Assert.True(code == 0, error);
        var config = File.ReadAllText(Path.Combine(Home.Path, "config.yaml"));
        Assert.Contains("gcs_key_file: " + key, config, StringComparison.Ordinal);
        Assert.Contains("endpoint_url: " + gcs.BaseUri, config, StringComparison.Ordinal);

        gcs.RequireToken = true; // only the token the key's grant hands out is accepted
        try
        {
            var (pushed, output, pushError) = await RunAsync("push", "g", "greet-data", "--install-tree", Tree);
            Assert.True(pushed == 0, pushError + output);
            Assert.Contains("pushed 1,", output, StringComparison.Ordinal);
            var (listed, specs, listError) = await RunAsync("list", "g", "-L");
            Assert.True(listed == 0, listError);
            Assert.Contains("zi66hh25uj52mbypxnkvycwkkbwphquj greet-data@1.0.0", specs, StringComparison.Ordinal);
            Assert.Contains(FakeGcsServer.AccessToken, gcs.BearerTokens);
        }
        finally
        {
            gcs.RequireToken = false;
        }

        // A key file that is gone: one line naming it.
        File.Delete(key);
        (code, _, error) = await RunAsync("list", "g");
        Assert.NotEqual(0, code);
        Assert.Contains(key, Assert.Single(error.Trim().Split('\n')), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("azure://devstoreaccount1", "names no container")]
    [InlineData("azure://", "names no account")]
    [InlineData("https://devstoreaccount1.blob.core.windows.net/", "names no container")]
    [InlineData("gs://", "names no bucket")]
    public async Task ACloudUrlMissingAPartIsRefusedWhenAddedInOneLine(string url, string problem)
    {
        var (code, _, error) = await RunAsync("mirror", "add", "bad", url);
        Assert.Equal(Depot.Cli.ExitCodes.Usage, code);
        Assert.Contains($"mirror '{url}' {problem}", Assert.Single(error.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Home.Path, "config.yaml")));
    }
}
