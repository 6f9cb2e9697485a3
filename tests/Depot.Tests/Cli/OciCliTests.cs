using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>The CLI on registries: a mirror with Spack's OCI login options, push, list, verify, install, copy,
/// check.</summary>
public sealed class OciCliTests(BasicAuthRegistry registry) : CliTestBase, IClassFixture<BasicAuthRegistry>
{
    [Fact]
    public async Task PushListVerifyInstallAndCopyThroughALoggedInRegistry()
    {
        var url = registry.Url("cli/cache" + Guid.NewGuid().ToString("N")[..6]);
        Variables["DEPOT_TEST_OCI_PASSWORD"] = BasicAuthRegistry.Password;
        Assert.Equal(0, (await RunAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"))).Code);
        var (code, output, error) = await RunAsync("mirror", "add", "reg", url, "--oci-username",
            BasicAuthRegistry.User, "--oci-password-variable", "DEPOT_TEST_OCI_PASSWORD");
        Assert.True(code == 0, error);
        var config = File.ReadAllText(Path.Combine(Home.Path, "config.yaml"));
        Assert.Contains("secret_variable: DEPOT_TEST_OCI_PASSWORD", config, StringComparison.Ordinal);
        Assert.DoesNotContain(BasicAuthRegistry.Password, config, StringComparison.Ordinal);

        (code, output, error) = await RunAsync("push", "reg", "--all", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.True(code == 0, error + output);
        Assert.Contains("pushed 5", output, StringComparison.Ordinal);
        Assert.Contains("(layout oci, key 6640D90F8A1E84DD1142614C06BD5C3F48A372CC published)", output,
            StringComparison.Ordinal);

        (code, output, _) = await RunAsync("list", "reg", "-L");
        Assert.Contains("ilccysmlleizqaxfvvqsb6selpnnszug greet@1.0.0", output, StringComparison.Ordinal);
        (code, output, error) = await RunAsync("verify", "reg");
        Assert.True(code == 0, error);
        Assert.Contains("5 ok, 0 failed (5 signatures good", output, StringComparison.Ordinal);

        var root = Path.Combine(Scratch.Path, "root");
        (code, output, error) = await RunAsync("install", "greet", "--from", "reg", "--root", root);
        Assert.True(code == 0, error + output);
        Assert.Contains("signed by 6640D90F8A1E84DD1142614C06BD5C3F48A372CC", output, StringComparison.Ordinal);

        var copy = Path.Combine(Scratch.Path, "copy");
        (code, output, error) = await RunAsync("copy", "reg", copy);
        Assert.True(code == 0, error + output);
        Assert.Contains("converted 5 (layout v3)", output, StringComparison.Ordinal);
        (code, output, error) = await RunAsync("verify", copy);
        Assert.True(code == 0, error + output);
        (code, output, error) = await RunAsync("copy", "reg", copy, "--json");
        Assert.True(code == 0, error + output);
        using (var summary = System.Text.Json.JsonDocument.Parse(output))
        {
            Assert.Equal(5,
                summary.RootElement.GetProperty("counts").GetProperty("exists").GetInt32()); // nothing copied twice
        }

        // Another machine trusts the key the push published in the registry, then verifies.
        using var other = new TempDir();
        File.Copy(Path.Combine(Home.Path, "config.yaml"), Path.Combine(other.Path, "config.yaml"));
        (code, output, error) = await CliRun.RunAsync(other.Path, Variables, "keys", "trust", "reg", "--all");
        Assert.True(code == 0, error);
        Assert.Contains("trusted 6640D90F8A1E84DD1142614C06BD5C3F48A372CC", output, StringComparison.Ordinal);
        (code, output, error) = await CliRun.RunAsync(other.Path, Variables, "verify", "reg");
        Assert.True(code == 0, error + output);

        (code, output, _) = await RunAsync("mirror", "check", "reg", "--write");
        Assert.True(code == 0, output);
        Assert.DoesNotContain(BasicAuthRegistry.Password, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MirrorCheckOnAnUnreachableRegistryStopsAtTheRegistryStepWithAFix()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var (code, output, _) = await RunAsync("mirror", "check", $"oci+http://127.0.0.1:{port}/nothing");
        Assert.Equal(1, code);
        Assert.Contains($"FAIL  registry: GET http://127.0.0.1:{port}/v2/nothing/tags/list: cannot reach registry "
            + $"127.0.0.1:{port}", output, StringComparison.Ordinal);
        Assert.Contains("fix: check host and port", output, StringComparison.Ordinal);
        Assert.DoesNotContain("layout", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongPasswordIsOneLineNamingRegistryAndSource()
    {
        Variables["DEPOT_TEST_OCI_WRONG"] = "not-it";
        await RunAsync("mirror", "add", "bad", registry.Url("cli/x"), "--oci-username", "depot",
            "--oci-password-variable", "DEPOT_TEST_OCI_WRONG");
        var (code, _, error) = await RunAsync("list", "bad");
        Assert.NotEqual(0, code);
        var line = Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"registry 127.0.0.1:{registry.Port} refused user 'depot' from mirror 'bad'", line,
            StringComparison.Ordinal);
        Assert.DoesNotContain("not-it", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOciUserNameCanComeFromTheVariableTheMirrorNames()
    {
        var url = registry.Url("cli/uservar" + Guid.NewGuid().ToString("N")[..6]);
        var (code, _, error) = await RunAsync("mirror", "add", "reg", url, "--oci-username-variable",
            "DEPOT_TEST_OCI_USER", "--oci-password-variable", "DEPOT_TEST_OCI_PASS", "--unsigned");
        Assert.True(code == 0, error);
        var config = File.ReadAllText(Path.Combine(Home.Path, "config.yaml"));
        Assert.Contains("id_variable: DEPOT_TEST_OCI_USER", config, StringComparison.Ordinal);
        Assert.DoesNotContain(BasicAuthRegistry.User + "\n", config, StringComparison.Ordinal);

        Variables["DEPOT_TEST_OCI_PASS"] = BasicAuthRegistry.Password;
        (code, _, error) = await RunAsync("list", "reg");
        Assert.Equal(Depot.Cli.ExitCodes.Usage, code); // the user's variable is not set yet
        Assert.Contains("environment variable DEPOT_TEST_OCI_USER is not set", error, StringComparison.Ordinal);

        Variables["DEPOT_TEST_OCI_USER"] = BasicAuthRegistry.User;
        var (pushed, output, pushError) = await RunAsync("push", "reg", "greet-data", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.True(pushed == 0, pushError + output);
        Assert.Contains("pushed 1,", output, StringComparison.Ordinal);
        var (listed, specs, listError) = await RunAsync("list", "reg", "-L");
        Assert.True(listed == 0, listError);
        Assert.Contains("greet-data@1.0.0", specs, StringComparison.Ordinal);

        Variables["DEPOT_TEST_OCI_USER"] = "somebody-else";
        (code, _, error) = await RunAsync("list", "reg");
        Assert.NotEqual(0, code);
        Assert.Contains("refused user 'somebody-else'", error, StringComparison.Ordinal);
    }
}

/// <summary>A registry behind https with a private CA: refused until the mirror names the CA.</summary>
public sealed class OciTlsCliTests(TlsRegistry registry) : CliTestBase, IClassFixture<TlsRegistry>
{
    [Fact]
    public async Task ThePrivateCaIsTrustedOnceTheMirrorNamesIt()
    {
        var url = registry.Url("cli/tls");
        var (code, _, error) = await RunAsync("push", url, "greet-data", "--unsigned", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.NotEqual(0, code);
        Assert.Contains("--ca-cert", error, StringComparison.Ordinal);

        Assert.Equal(0,
            (await RunAsync("mirror", "add", "tls", url, "--ca-cert", DockerRegistry.CaCertificate,
                "--unsigned")).Code);
        string output;
        (code, output, error) = await RunAsync("push", "tls", "greet-data", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.True(code == 0, error + output);
        (code, output, error) = await RunAsync("mirror", "check", "tls");
        Assert.True(code == 0, error + output);
        Assert.Contains("ok    index (oci): 1 cached specs", output, StringComparison.Ordinal);
    }
}
