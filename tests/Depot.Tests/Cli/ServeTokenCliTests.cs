using System.Text.Json;
using Depot.Serving;

namespace Depot.Tests.Cli;

/// <summary><c>depot serve token create|list|revoke</c> on a serve.yaml in the test's Depot home.</summary>
public sealed class ServeTokenCliTests : CliTestBase
{
    public ServeTokenCliTests()
    {
        File.WriteAllText(Home.Combine("serve.yaml"), $"""
            caches:
              main:
                mirror: {Scratch.Path}
              open:
                mirror: {Scratch.Path}
                public: true
            """);
    }

    private string TokensFile => Home.Combine("tokens.json");

    [Fact]
    public async Task CreateListRevoke()
    {
        var (code, stdout, stderr) = await RunAsync("serve", "token", "create", "--cache", "main", "--scope", "push",
            "--expires", "30d", "--name", "ci");
        Assert.Equal(0, code);
        var text = stdout.Trim();
        Assert.Matches("^dpt_[0-9a-f]{12}_[0-9a-f]{64}$", text); // alone on stdout: TOKEN=$(depot serve token …)
        var id = AccessToken.IdOf(text)!;
        Assert.Contains($"created token {id} (ci): push on cache main, expires ", stderr, StringComparison.Ordinal);
        Assert.Contains("shown only this once", stderr, StringComparison.Ordinal);

        var (listCode, list, _) = await RunAsync("serve", "token", "list");
        Assert.Equal(0, listCode);
        Assert.Matches($"^{id}  main  push   created \\d{{4}}-\\d\\d-\\d\\d  expires .* UTC  ci\n$", list);
        Assert.DoesNotContain(text[^64..], list, StringComparison.Ordinal);
        Assert.DoesNotContain(text[^64..], File.ReadAllText(TokensFile), StringComparison.Ordinal);

        var (revokeCode, revoked, _) = await RunAsync("serve", "token", "revoke", "ci");
        Assert.Equal(0, revokeCode);
        Assert.Equal($"revoked token {id} (ci) (push on cache main)\n", revoked);
        Assert.Equal("", (await RunAsync("serve", "token", "list")).Out);
        Assert.Equal(TokenStatus.Unknown, new TokenStore(TokensFile).Check(text).Status);
    }

    [Fact]
    public async Task JsonDocuments()
    {
        var (code, stdout, _) = await RunAsync("serve", "token", "create", "--cache", "open", "--scope", "read",
            "--json");
        Assert.Equal(0, code);
        using var created = JsonDocument.Parse(stdout);
        var text = created.RootElement.GetProperty("token").GetString()!;
        var record = created.RootElement.GetProperty("record");
        Assert.Equal(AccessToken.IdOf(text), record.GetProperty("id").GetString());
        Assert.Equal("open", record.GetProperty("cache").GetString());
        Assert.Equal("read", record.GetProperty("scope").GetString());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("expires").ValueKind);

        var (_, list, _) = await RunAsync("serve", "token", "list", "--json", "--cache", "open");
        using var listed = JsonDocument.Parse(list);
        Assert.Equal(record.GetProperty("id").GetString(),
            Assert.Single(listed.RootElement.GetProperty("tokens").EnumerateArray()).GetProperty("id").GetString());
        Assert.DoesNotContain(text[^64..], list, StringComparison.Ordinal);
        Assert.Empty(JsonDocument.Parse((await RunAsync("serve", "token", "list", "--json", "--cache", "main")).Out)
            .RootElement.GetProperty("tokens").EnumerateArray());

        var (_, revoked, _) = await RunAsync("serve", "token", "revoke", record.GetProperty("id").GetString()!,
            "--json");
        Assert.Equal("open", JsonDocument.Parse(revoked).RootElement.GetProperty("revoked").GetProperty("cache")
            .GetString());
    }

    [Fact]
    public async Task AnUnknownCacheIsNamedWithTheFile()
    {
        var (code, stdout, stderr) = await RunAsync("serve", "token", "create", "--cache", "nope", "--scope", "read");
        Assert.Equal(Depot.Cli.ExitCodes.For(ErrorKind.NotFound), code);
        Assert.Equal("", stdout);
        Assert.Contains($"{Home.Combine("serve.yaml")}: no cache named nope (its caches: main, open)", stderr,
            StringComparison.Ordinal);
        Assert.False(File.Exists(TokensFile));
    }

    [Fact]
    public async Task BadScopeExpiryAndMissingTokenAreOneLineErrors()
    {
        var scope = await RunAsync("serve", "token", "create", "--cache", "main", "--scope", "write");
        Assert.Equal(Depot.Cli.ExitCodes.For(ErrorKind.Usage), scope.Code);
        var expiry = await RunAsync("serve", "token", "create", "--cache", "main", "--scope", "read", "--expires",
            "1y");
        Assert.Equal(Depot.Cli.ExitCodes.For(ErrorKind.Usage), expiry.Code);
        Assert.Contains("token lifetime '1y'", expiry.Err, StringComparison.Ordinal);
        var missing = await RunAsync("serve", "token", "revoke", "0123456789ab", "--json");
        Assert.Equal(Depot.Cli.ExitCodes.For(ErrorKind.NotFound), missing.Code);
        Assert.Contains("no token with id or name '0123456789ab'", missing.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherConfigurationKeepsItsOwnTokensFile()
    {
        var config = Scratch.Combine("other.yaml");
        File.WriteAllText(config, $"tokens_file: keys/t.json\ncaches:\n  x:\n    mirror: {Scratch.Path}\n");
        var (code, stdout, _) = await RunAsync("serve", "token", "create", "--config", config, "--cache", "x",
            "--scope", "admin");
        Assert.Equal(0, code);
        Assert.Equal(TokenStatus.Valid, new TokenStore(Scratch.Combine("keys", "t.json")).Check(stdout.Trim()).Status);
        Assert.False(File.Exists(TokensFile));
    }
}
