using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Depot.Tests.Storage;

/// <summary>
/// The registry with token auth (the Bearer flow of Docker Hub, GHCR, Harbor): it answers 401 with
/// <c>Bearer realm=…,service=…,scope=…</c>, and accepts JWTs signed by a key whose certificate it trusts. The token
/// service is a small Kestrel endpoint here: Basic login <see cref="User"/>/<see cref="Password"/>, RS256 tokens with
/// the certificate in <c>x5c</c>, granting the scopes asked for. It records what it was asked. Like Docker Hub's, the
/// realm is on another origin over https (the fixture CA's certificate for 127.0.0.1): clients need
/// <see cref="DockerRegistry.CaCertificate"/>.
/// </summary>
public sealed class TokenAuthRegistry : DockerRegistry
{
    public const string User = "robot";
    public const string Password = "t0ken-pass";
    private const string Service = "depot-test-registry";
    private const string Issuer = "depot-test-issuer";

    private readonly RSA key = RSA.Create(2048);
    private readonly X509Certificate2 certificate;
    private readonly WebApplication tokenServer;
    private readonly string bundle;

    public TokenAuthRegistry()
    {
        var request = new CertificateRequest("CN=depot test token issuer", key, HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        bundle = Path.Combine(Path.GetTempPath(), $"depot-token-ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(bundle, certificate.ExportCertificatePem());
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        using var pem = X509Certificate2.CreateFromPemFile(TestData.Path("spack-1.2-oci/tls/server.pem"),
            TestData.Path("spack-1.2-oci/tls/server.key"));
        var serverCertificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pfx), null);
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0,
            o => o.UseHttps(serverCertificate)));
        tokenServer = builder.Build();
        tokenServer.Run(IssueAsync);
        tokenServer.StartAsync().GetAwaiter().GetResult();
    }

    /// <summary>The <c>scope</c> parameters of every token request, in order.</summary>
    public ConcurrentQueue<string> ScopesAsked { get; } = new();

    protected override string AuthYaml => $"""
        auth:
          token:
            realm: {tokenServer.Urls.First()}/token
            service: {Service}
            issuer: {Issuer}
            rootcertbundle: {bundle}

        """;

    private async Task IssueAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        if (header != expected || context.Request.Query["service"] != Service)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("{\"details\":\"incorrect username or password\"}");
            return;
        }

        var access = new List<object>();
        foreach (var scope in context.Request.Query["scope"])
        {
            ScopesAsked.Enqueue(scope!);
            var parts = scope!.Split(':');
            access.Add(new { type = parts[0], name = string.Join(':', parts[1..^1]), actions = parts[^1].Split(',') });
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var jwtHeader = new { typ = "JWT", alg = "RS256", x5c = new[] { Convert.ToBase64String(certificate.RawData) } };
        var claims = new
        {
            iss = Issuer,
            sub = User,
            aud = Service,
            exp = now + 300,
            nbf = now - 10,
            iat = now,
            jti = Guid.NewGuid().ToString("N"),
            access,
        };
        var input = $"{Base64Url(JsonSerializer.SerializeToUtf8Bytes(jwtHeader))}."
            + $"{Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims))}";
        var signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            token = $"{input}.{Base64Url(signature)}",
            expires_in = 300,
        }));
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await tokenServer.DisposeAsync();
        certificate.Dispose();
        key.Dispose();
        File.Delete(bundle);
    }
}
