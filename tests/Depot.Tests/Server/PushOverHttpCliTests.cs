using Depot.Cli;
using Depot.Operations;
using Depot.Serving;
using Depot.Signing;
using Depot.Storage;
using Depot.Tests.Cli;

namespace Depot.Tests.Server;

/// <summary>
/// <c>depot push</c>, <c>copy</c>, <c>list</c> and <c>install</c> against a private cache of a real server, with the
/// token taken from the variable the mirror names: entries land in the store behind it, indexed by the server.
/// </summary>
public sealed class PushOverHttpCliTests : CliTestBase
{
    private const string Variable = "DEPOT_PUSH_TOKEN";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PushCopyListAndInstallThroughThePrivateCacheWithAToken()
    {
        using var behind = new TempDir();
        await using var server = await TokenServer.StartAsync([new ServedCacheConfig("c", behind.Path)
        {
            AllowUnsigned = true,
        }]);
        Variables[Variable] = await server.TokenAsync("c", TokenScope.Push);
        Assert.Equal(0, (await RunAsync("mirror", "add", "srv", server.Url("c"), "--token-variable", Variable,
            "--unsigned")).Code);
        var tree = TestData.Path("spack-1.2/install-tree");

        var (code, output, err) = await RunAsync("push", "srv", "--all", "--install-tree", tree);
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.Contains("index updated by the server", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Variables[Variable], output, StringComparison.Ordinal);
        var store = new LocalDirectoryStore(behind.Path);
        var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Contains("greet", listed.Rows.Select(r => r.Name));
        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, TrustPolicy.None("c")),
            new VerifyOptions([]), null, Token);
        Assert.True(verified.Ok, string.Join("; ", verified.Failures.Select(f => f.ToString())));
        Assert.Equal(listed.Rows.Count, verified.Checked);

        var (againCode, again, _) = await RunAsync("push", "srv", "--all", "--install-tree", tree);
        Assert.Equal(0, againCode);
        Assert.Contains("pushed 0,", again, StringComparison.Ordinal);

        using var source = new TempDir();
        SyntheticMirror.Write(source.Path, "7", 3);
        var (copyCode, copied, copyErr) = await RunAsync("copy", source.Path, "srv", "--no-verify");
        Assert.Equal("", copyErr);
        Assert.Equal(0, copyCode);
        Assert.Contains("copied 3", copied, StringComparison.Ordinal);
        Assert.Contains("index updated by the server", copied, StringComparison.Ordinal);

        var (listCode, listing, listErr) = await RunAsync("list", "srv");
        Assert.Equal("", listErr);
        Assert.Equal(0, listCode);
        Assert.Contains("greet@1.0.0", listing, StringComparison.Ordinal);
        Assert.Contains("greet-data@7.2", listing, StringComparison.Ordinal);

        var root = Path.Combine(Scratch.Path, "sw");
        var (installCode, installed, installErr) = await RunAsync("install", "greet", "--from", "srv", "--root",
            root);
        Assert.Equal("", installErr);
        Assert.Equal(0, installCode);
        Assert.Matches(@"installed [1-9][0-9]*, already present 0, failed 0", installed);
        Assert.Contains("installed greet@1.0.0", installed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingWrongOrReadOnlyTokenIsRefusedNamingTheVariableOnly()
    {
        using var behind = new TempDir();
        await using var server = await TokenServer.StartAsync([new ServedCacheConfig("c", behind.Path)
        {
            AllowUnsigned = true,
        }]);
        Assert.Equal(0, (await RunAsync("mirror", "add", "srv", server.Url("c"), "--token-variable", Variable,
            "--unsigned")).Code);
        var tree = TestData.Path("spack-1.2/install-tree");

        var (unset, _, unsetErr) = await RunAsync("push", "srv", "greet", "--install-tree", tree);
        Assert.Equal(ExitCodes.Usage, unset);
        Assert.Contains($"environment variable {Variable} is not set", unsetErr, StringComparison.Ordinal);

        Variables[Variable] = "dpt_0123456789ab_" + new string('w', 43);
        var (wrong, _, wrongErr) = await RunAsync("push", "srv", "greet", "--install-tree", tree);
        Assert.Equal(ExitCodes.Authentication, wrong);
        Assert.Contains($"the server refused the token in {Variable}", wrongErr, StringComparison.Ordinal);
        Assert.DoesNotContain("wwww", wrongErr, StringComparison.Ordinal);

        Variables[Variable] = await server.TokenAsync("c", TokenScope.Read);
        var (reader, _, readerErr) = await RunAsync("push", "srv", "greet", "--install-tree", tree);
        Assert.Equal(ExitCodes.Authentication, reader);
        Assert.Contains(Variable, readerErr, StringComparison.Ordinal);
        Assert.DoesNotContain(Variables[Variable], readerErr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(behind.Path, "*.spec.manifest.json", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ACacheThatWantsSignedEntriesGetsThemSignedByThePushersKey()
    {
        using var behind = new TempDir();
        await using var server = await TokenServer.StartAsync([new ServedCacheConfig("c", behind.Path)
        {
            TrustedFingerprints = ["6640D90F8A1E84DD1142614C06BD5C3F48A372CC"],
        }], withFixtureKey: true);
        Variables[Variable] = await server.TokenAsync("c", TokenScope.Push);
        Assert.Equal(0, (await RunAsync("mirror", "add", "srv", server.Url("c"), "--token-variable", Variable)).Code);
        Assert.Equal(0, (await RunAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"))).Code);
        var tree = TestData.Path("spack-1.2/install-tree");

        var (unsigned, _, unsignedErr) = await RunAsync("push", "srv", "greet", "--only", "package", "--unsigned",
            "--install-tree", tree);
        Assert.Equal(ExitCodes.Trust, unsigned);
        Assert.Contains("signed by a key it trusts", unsignedErr, StringComparison.Ordinal);

        var (code, output, err) = await RunAsync("push", "srv", "greet", "--install-tree", tree);
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.Contains("index updated by the server", output, StringComparison.Ordinal);
        var manifests = Directory.EnumerateFiles(behind.Path, "*.spec.manifest.json", SearchOption.AllDirectories)
            .ToList();
        Assert.NotEmpty(manifests);
        Assert.All(manifests, m => Assert.StartsWith("-----BEGIN PGP SIGNED MESSAGE-----", File.ReadAllText(m),
            StringComparison.Ordinal));
    }
}
