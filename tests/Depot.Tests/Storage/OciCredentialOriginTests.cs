using System.Text;
using Depot.Storage.Oci;
using Microsoft.AspNetCore.Http;

namespace Depot.Tests.Storage;

/// <summary>
/// Registry credentials and tokens stay with the registry's origin (scheme, host, port). A hostile or misconfigured
/// registry on 127.0.0.1 points elsewhere — a tag-list Link, a blob redirect, a token realm — at a server on
/// 127.0.0.2 (another host: all of 127.0.0.0/8 is loopback), which records every Authorization header it gets.
/// </summary>
public sealed class OciCredentialOriginTests
{
    private const string User = "depot";
    private const string Password = "for-the-registry-only";
    private const string RegistryToken = "registry-token-123";
    private static readonly string Basic = "Basic "
        + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
    private static readonly OciCredential Login = new(User, Password, "test");
    private static readonly byte[] Blob = "the blob's bytes"u8.ToArray();
    private static readonly string BlobDigest = OciRegistryClient.Digest(Blob);
    private static readonly string GuardedDigest = OciRegistryClient.Digest("a blob whose storage asks for a login"u8);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>
    /// A registry that wants a login: Basic, or Bearer tokens from a realm on its own origin (plain http is accepted
    /// there), which wants the login in turn. Logged-in requests get <paramref name="answer"/>.
    /// </summary>
    private static Func<HttpContext, Task> Registry(string scheme, Func<HttpContext, Task> answer) => async context =>
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (scheme == "bearer" && context.Request.Path == "/token")
        {
            context.Response.StatusCode = authorization == Basic ? 200 : 401;
            await context.Response.WriteAsync(authorization == Basic ? $"{{\"token\":\"{RegistryToken}\"}}" : "{}");
            return;
        }

        if (authorization != (scheme == "bearer" ? "Bearer " + RegistryToken : Basic))
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = scheme == "bearer"
                ? $"Bearer realm=\"{context.Request.Scheme}://{context.Request.Host}/token\",service=\"test\""
                : "Basic realm=\"test\"";
            return;
        }

        await answer(context);
    };

    private static Task Json(HttpContext context, string json, string type = "application/json")
    {
        context.Response.ContentType = type;
        return context.Response.WriteAsync(json);
    }

    private static async Task<(List<string> Tags, Exception? Error)> ListAsync(OciRegistryClient client)
    {
        var tags = new List<string>();
        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var tag in client.ListTagsAsync(Token))
            {
                tags.Add(tag);
            }
        });
        return (tags, error);
    }

    [Theory]
    [InlineData("basic")]
    [InlineData("bearer")]
    public async Task ATagListLinkToAnotherHostIsNotFollowed(string scheme)
    {
        await using var elsewhere = await HostileServer.StartAsync("127.0.0.2",
            c => Json(c, """{"name":"repo","tags":["stolen"]}"""));
        await using var registry = await HostileServer.StartAsync("127.0.0.1", Registry(scheme, context =>
        {
            context.Response.Headers.Link = $"<{elsewhere.Origin}/v2/repo/tags/list?last=a&n=1000>; rel=\"next\"";
            return Json(context, """{"name":"repo","tags":["a"]}""");
        }));
        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{registry.Authority}/repo"),
            new OciClientOptions(Login));

        var (tags, error) = await ListAsync(client);
        Assert.Equal(["a"], tags);
        var refused = Assert.IsType<InvalidContentException>(error);
        Assert.Contains($"the next-page Link points to {elsewhere.Origin}, not the registry {registry.Origin}; not "
            + "followed", refused.Message, StringComparison.Ordinal);
        Assert.Empty(elsewhere.Requests);
        Assert.Contains(scheme == "bearer" ? "Bearer " + RegistryToken : Basic,
            registry.Authorizations); // the login was in use
    }

    [Fact]
    public async Task AnHttpsRegistrysLinkToPlainHttpIsNotFollowed()
    {
        await using var plain = await HostileServer.StartAsync("127.0.0.1",
            c => Json(c, """{"name":"repo","tags":["downgraded"]}"""));
        using var certificate = HostileServer.FixtureCertificate();
        await using var registry = await HostileServer.StartAsync("127.0.0.1", Registry("basic", context =>
        {
            context.Response.Headers.Link = $"<{plain.Origin}/v2/repo/tags/list?last=a>; rel=\"next\"";
            return Json(context, """{"name":"repo","tags":["a"]}""");
        }), certificate);
        Assert.StartsWith("https://", registry.Origin, StringComparison.Ordinal);
        using var client = new OciRegistryClient(OciReference.Parse($"oci://{registry.Authority}/repo"),
            new OciClientOptions(Login, DockerRegistry.CaCertificate));

        var (tags, error) = await ListAsync(client);
        Assert.Equal(["a"], tags);
        Assert.Contains($"points to {plain.Origin}, not the registry",
            Assert.IsType<InvalidContentException>(error).Message, StringComparison.Ordinal);
        Assert.Empty(plain.Requests);
    }

    [Theory]
    [InlineData("basic")]
    [InlineData("bearer")]
    public async Task BlobRedirectsToAnotherHostCarryNoCredentialsEvenWhenThatHostAsks(string scheme)
    {
        // Storage behind a registry (S3, a CDN): signed URLs, no login. One of its URLs answers 401 asking for Basic.
        await using var storage = await HostileServer.StartAsync("127.0.0.2", async context =>
        {
            if (context.Request.Path == "/signed")
            {
                context.Response.ContentLength = Blob.Length;
                await context.Response.Body.WriteAsync(Blob, context.RequestAborted);
                return;
            }

            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"storage\"";
        });
        await using var registry = await HostileServer.StartAsync("127.0.0.1", Registry(scheme, context =>
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = storage.Origin
                + (context.Request.Path.Value!.EndsWith(BlobDigest, StringComparison.Ordinal) ? "/signed?sig=1"
                    : "/login");
            return Task.CompletedTask;
        }));
        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{registry.Authority}/repo"),
            new OciClientOptions(Login));

        Assert.Equal(Blob, await client.ReadBlobAsync(BlobDigest, Blob.Length, 1 << 20, Token));
        var e = await Assert.ThrowsAsync<OciRegistryException>(() => client.ReadBlobAsync(GuardedDigest, 10, 1 << 20,
            Token));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, e.Status);
        Assert.Contains($"GET {storage.Origin}/login: 401", e.Message, StringComparison.Ordinal);

        Assert.Empty(storage.Authorizations);
        Assert.Equal(["/signed?sig=1", "/login"],
            storage.Requests.Select(r => r.Target)); // the 401 was not answered with a login
        Assert.Contains(scheme == "bearer" ? "Bearer " + RegistryToken : Basic, registry.Authorizations);
    }

    [Fact]
    public async Task APlainHttpTokenRealmOnAnotherHostGetsNoLogin()
    {
        await using var realm = await HostileServer.StartAsync("127.0.0.2",
            c => Json(c, $"{{\"token\":\"{RegistryToken}\"}}"));
        await using var registry = await HostileServer.StartAsync("127.0.0.1", context =>
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{realm.Origin}/token\",service=\"test\"";
            return Task.CompletedTask;
        });
        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{registry.Authority}/repo"),
            new OciClientOptions(Login));

        var e = await Assert.ThrowsAsync<OciAuthException>(() => client.GetManifestAsync("latest", Token));
        Assert.Equal($"registry {registry.Authority}: token realm {realm.Origin}/token is plain http on another "
            + "origin; "
            + "the login is not sent there (a realm must be https, or on the registry itself)", e.Message);
        Assert.Empty(realm.Requests);
    }

    [Fact]
    public async Task AnHttpsTokenRealmOnAnotherHostGetsTheLoginOnlyAndTheRegistryTheTokenOnly()
    {
        // Docker Hub's shape: registry-1.docker.io sends clients to https://auth.docker.io/token.
        using var certificate = HostileServer.FixtureCertificate();
        await using var realm = await HostileServer.StartAsync("127.0.0.1", context =>
        {
            var ok = context.Request.Headers.Authorization == Basic;
            context.Response.StatusCode = ok ? 200 : 401;
            return Json(context, ok ? $"{{\"token\":\"{RegistryToken}\",\"expires_in\":300}}" : "{}");
        }, certificate);
        const string manifest = """{"schemaVersion":"""
            + """2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":"""
            + """{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:"""
            + """44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}""";
        await using var registry = await HostileServer.StartAsync("127.0.0.2", context =>
        {
            if (context.Request.Headers.Authorization != "Bearer " + RegistryToken)
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{realm.Origin}/token\",service=\"test\"";
                return Task.CompletedTask;
            }

            return Json(context, manifest, "application/vnd.oci.image.manifest.v1+json");
        });
        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{registry.Authority}/repo"),
            new OciClientOptions(Login, DockerRegistry.CaCertificate));

        var found = await client.GetManifestAsync("latest", Token);
        Assert.Equal(Encoding.UTF8.GetBytes(manifest), found!.Bytes);
        Assert.Equal([Basic], realm.Authorizations);
        Assert.Equal(["Bearer " + RegistryToken], registry.Authorizations);
    }
}
