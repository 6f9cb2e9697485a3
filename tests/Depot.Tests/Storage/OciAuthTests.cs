using System.Text;
using Depot.Storage;
using Depot.Storage.Oci;

namespace Depot.Tests.Storage;

/// <summary>Registry logins against real registries: htpasswd Basic, the Bearer token flow, Docker's config and
/// helpers, TLS.</summary>
public sealed class OciAuthTests(BasicAuthRegistry basic, TokenAuthRegistry bearer, TlsRegistry tls)
    : IClassFixture<BasicAuthRegistry>, IClassFixture<TokenAuthRegistry>, IClassFixture<TlsRegistry>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task RoundTripAsync(IObjectStore store)
    {
        await store.WriteAllTextAsync("probe/a.txt", "hello", Token);
        Assert.Equal("hello",
            Encoding.UTF8.GetString(await store.ReadAllBytesAsync("probe/a.txt", cancellationToken: Token)));
        Assert.Equal(["probe/a.txt"], await store.ListKeysAsync("probe/", Token).ToListAsync(Token));
    }

    [Fact]
    public async Task BasicAuthNeedsCredentialsAndNamesTheOnesRefused()
    {
        using var anonymous = new OciStore(OciReference.Parse(basic.Url("auth/basic")));
        var e = await Assert.ThrowsAsync<OciAuthException>(() => anonymous.GetInfoAsync("probe/a.txt", Token));
        Assert.Contains($"registry 127.0.0.1:{basic.Port} requires a login", e.Message, StringComparison.Ordinal);
        Assert.Equal((ErrorKind.Authentication, HintAction.ConfigureRegistryLogin, $"127.0.0.1:{basic.Port}"),
            (e.Kind, e.Hint?.Action, e.Hint?["registry"]));

        var good = new OciCredential(BasicAuthRegistry.User, BasicAuthRegistry.Password, "test");
        using var store = new OciStore(OciReference.Parse(basic.Url("auth/basic")), new OciClientOptions(good));
        await RoundTripAsync(store);

        using var wrong = new OciStore(OciReference.Parse(basic.Url("auth/basic")),
            new OciClientOptions(good with { Password = "nope", Source = "mirror 'x' access_pair" }));
        e = await Assert.ThrowsAsync<OciAuthException>(() => wrong.GetInfoAsync("probe/a.txt", Token));
        Assert.Contains("refused user 'depot' from mirror 'x' access_pair", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BearerTokensAreFetchedPerScopeWithTheLogin()
    {
        var login = new OciCredential(TokenAuthRegistry.User, TokenAuthRegistry.Password, "test");
        using var store = new OciStore(OciReference.Parse(bearer.Url("auth/bearer")),
            new OciClientOptions(login, DockerRegistry.CaCertificate));
        await RoundTripAsync(store);
        Assert.Contains("repository:auth/bearer:pull,push", bearer.ScopesAsked);
        var asked = bearer.ScopesAsked.Count;
        await ((IObjectStore)store).ReadAllBytesAsync("probe/a.txt", cancellationToken: Token);
        Assert.Equal(asked, bearer.ScopesAsked.Count); // cached: no new token for the same scope

        using var anonymous = new OciStore(OciReference.Parse(bearer.Url("auth/bearer")),
            new OciClientOptions(CaCertificateFile: DockerRegistry.CaCertificate));
        var e = await Assert.ThrowsAsync<OciAuthException>(() => anonymous.GetInfoAsync("probe/a.txt", Token));
        Assert.Contains("token service", e.Message, StringComparison.Ordinal);
        Assert.Contains("refused anonymous access for scope repository:auth/bearer:pull", e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerConfigAuthsAndCredentialHelpersAreUsed()
    {
        using var dir = new TempDir();
        // The store's own environment: this Docker config, and a PATH holding only the helper written below.
        var environment = EnvironmentVariables.From(new Dictionary<string, string>
        {
            ["DOCKER_CONFIG"] = dir.Path,
            ["PATH"] = dir.Path,
        });
        var auth = Convert.ToBase64String(
            Encoding.UTF8.GetBytes($"{BasicAuthRegistry.User}:{BasicAuthRegistry.Password}"));
        File.WriteAllText(Path.Combine(dir.Path, "config.json"),
            "{\"auths\": {\"http://127.0.0.1:" + basic.Port + "/v1/\": {\"auth\": \"" + auth + "\"}}}");
        using (var store = new OciStore(OciReference.Parse(basic.Url("auth/docker-config")),
            new OciClientOptions(Environment: environment)))
        {
            await RoundTripAsync(store);
        }

        // A credential helper named for the registry wins over auths (docker-credential-<name> get, server on
        // stdin).
        var helper = Path.Combine(dir.Path, "docker-credential-depottest");
        File.WriteAllText(helper, $$"""
    #!/bin/sh
    read server
    [ "$server" = "127.0.0.1:{{bearer.Port}}" ] || { echo "credentials not found in native keychain"; exit 1; }
    echo '{"ServerURL":"'$server'","Username":"{{TokenAuthRegistry.User}}","Secret":"{{TokenAuthRegistry.Password}}"}'
    """);
        File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(dir.Path, "config.json"),
            "{\"credHelpers\": {\"127.0.0.1:" + bearer.Port + "\": \"depottest\"}}");
        using (var store = new OciStore(OciReference.Parse(bearer.Url("auth/helper")),
            new OciClientOptions(CaCertificateFile: DockerRegistry.CaCertificate, Environment: environment)))
        {
            await RoundTripAsync(store);
        }

        File.WriteAllText(Path.Combine(dir.Path, "config.json"), """{"credsStore": "missing-helper"}""");
        using var broken = new OciStore(OciReference.Parse(basic.Url("auth/docker-config")),
            new OciClientOptions(Environment: environment));
        var e = await Assert.ThrowsAsync<DepotException>(() => broken.GetInfoAsync("probe/a.txt", Token));
        Assert.Contains("docker-credential-missing-helper", e.Message, StringComparison.Ordinal);

        // Without an environment no Docker config is read: the same registry is asked anonymously, and refuses.
        using var anonymous = new OciStore(OciReference.Parse(basic.Url("auth/docker-config")));
        var refused = await Assert.ThrowsAsync<OciAuthException>(() => anonymous.GetInfoAsync("probe/a.txt", Token));
        Assert.Contains("no credentials found", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpsWithAPrivateCaWorksOnceTheCaIsGiven()
    {
        using var untrusting = new OciStore(OciReference.Parse(tls.Url("tls/repo")));
        var e = await Assert.ThrowsAsync<DepotException>(() => untrusting.GetInfoAsync("probe/a.txt", Token));
        Assert.Contains("its TLS certificate is not trusted", e.Message, StringComparison.Ordinal);
        Assert.Equal((ErrorKind.Trust, HintAction.TrustCertificate), (e.Kind, e.Hint?.Action));

        using var store = new OciStore(OciReference.Parse(tls.Url("tls/repo")),
            new OciClientOptions(CaCertificateFile: DockerRegistry.CaCertificate));
        Assert.StartsWith("oci://", store.Root, StringComparison.Ordinal);
        await RoundTripAsync(store);
    }
}
