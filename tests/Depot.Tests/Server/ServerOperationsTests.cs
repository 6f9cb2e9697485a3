using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Depot.Server;
using Depot.Serving;

namespace Depot.Tests.Server;

/// <summary>Running the server: graceful stop, body limit, TLS from PEM files, which proxies are believed.</summary>
public sealed class ServerOperationsTests : IDisposable
{
    private readonly TempDir folder = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => folder.Dispose();

    private string Mirror(string key, byte[] content)
    {
        var path = folder.Combine(["mirror", .. key.Split('/')]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return folder.Combine("mirror");
    }

    [Fact]
    public async Task StoppingLetsADownloadInFlightFinishAndTakesNoNewRequest()
    {
        var data = RandomNumberGenerator.GetBytes(8 << 20);
        var mirror = Mirror("build_cache/big.spack", data);
        await using var server = await RunningServer.StartAsync(mirror);
        var name = server.Server.Caches.All[0].Name;
        using var response = await server.Client.GetAsync($"{name}/build_cache/big.spack",
            HttpCompletionOption.ResponseHeadersRead, Token);
        await using var body = await response.Content.ReadAsStreamAsync(Token);
        var received = new MemoryStream();
        var buffer = new byte[256 << 10];
        received.Write(buffer, 0, await body.ReadAsync(buffer, Token));

        var stopping = server.Server.StopAsync(Token);
        await Task.Delay(500, Token);
        Assert.False(stopping.IsCompleted, "the server stopped with a download in flight");

        // A slow reader: 256 KiB every 20 ms, still going after the stop began.
        int n;
        while ((n = await body.ReadAsync(buffer, Token)) > 0)
        {
            received.Write(buffer, 0, n);
            await Task.Delay(20, Token);
        }

        await stopping.WaitAsync(TimeSpan.FromSeconds(30), Token);
        Assert.Equal(data, received.ToArray());
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => server.Client.GetAsync("healthz", Token));
    }

    [Fact]
    public async Task ABodyOverTheLimitIs413BeforeAnythingReadsIt()
    {
        var mirror = Mirror("index.json", "{}"u8.ToArray());
        var config = new ServeConfig(["127.0.0.1:0"], null, "/nonexistent", new ServeLimits { MaxBodyBytes = 1000 },
            [new ServedCacheConfig("c", mirror) { Public = true }], null);
        await using var server = await RunningServer.StartAsync(config);

        // As clients send large bodies: the answer comes before the body is sent (Expect: 100-continue).
        using var put = new HttpRequestMessage(HttpMethod.Put, "c/blobs/x")
        {
            Content = new ByteArrayContent(new byte[2000]),
        };
        put.Headers.ExpectContinue = true;
        var refused = await server.Client.SendAsync(put, Token);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Token));
        Assert.Contains("limit of 1000", error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        var small = await server.Client.PutAsync("c/blobs/x", new ByteArrayContent(new byte[10]), Token);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, small.StatusCode);
    }

    [Fact]
    public async Task HttpsFromPemFilesNamedInServeYamlAnswersAClientThatTrustsThatCertificate()
    {
        var mirror = Mirror("build_cache/index.json", "{\"tls\": true}"u8.ToArray());
        using var certificate = SelfSigned();
        await File.WriteAllTextAsync(folder.Combine("cert.pem"), certificate.ExportCertificatePem(), Token);
        using (var key = certificate.GetECDsaPrivateKey()!)
        {
            await File.WriteAllTextAsync(folder.Combine("key.pem"), key.ExportPkcs8PrivateKeyPem(), Token);
        }

        await File.WriteAllTextAsync(folder.Combine("serve.yaml"), $$$"""
            listen: 127.0.0.1:0
            tls: {certificate: cert.pem, key: key.pem}
            caches:
              secure: {mirror: {{{mirror}}}, public: true, read_only: true}
            """, Token);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            CustomTrustStore = { X509CertificateLoader.LoadCertificate(certificate.RawData) },
        };
        await using var server = await RunningServer.StartAsync(ServeConfig.Load(folder.Combine("serve.yaml")),
            handler: handler);

        Assert.Equal("https", server.BaseUrl.Scheme);
        Assert.Equal("{\"tls\": true}", await server.Client.GetStringAsync("secure/build_cache/index.json", Token));
        using var untrusting = new HttpClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(
            () => untrusting.GetAsync(new Uri(server.BaseUrl, "healthz"), Token));
    }

    [Fact]
    public async Task AnUnreadablePemIsOneLineNamingBothFiles()
    {
        var mirror = Mirror("index.json", "{}"u8.ToArray());
        await File.WriteAllTextAsync(folder.Combine("cert.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n", Token);
        await File.WriteAllTextAsync(folder.Combine("key.pem"), "nothing", Token);
        await File.WriteAllTextAsync(folder.Combine("serve.yaml"), $$$"""
            tls: {certificate: cert.pem, key: key.pem}
            caches: {c: {mirror: {{{mirror}}}, public: true}}
            """, Token);

        var error = await Assert.ThrowsAsync<DepotException>(
            () => RunningServer.StartAsync(ServeConfig.Load(folder.Combine("serve.yaml"))));

        Assert.Equal(ErrorKind.InvalidContent, error.Kind);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains(folder.Combine("cert.pem"), error.Message, StringComparison.Ordinal);
        Assert.Contains(folder.Combine("key.pem"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForwardedHeadersFromAProxyNotTrustedAreIgnored()
    {
        var mirror = Mirror("index.json", "{}"u8.ToArray());
        var config = ServeConfig.ZeroConfig([mirror], "127.0.0.1:0", "/nonexistent") with { TrustedProxies = [] };
        await using var server = await RunningServer.StartAsync(config);
        using var request = new HttpRequestMessage(HttpMethod.Get, "mirror/index.json");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        Assert.Equal(HttpStatusCode.OK, (await server.Client.SendAsync(request, Token)).StatusCode);

        using var entry = JsonDocument.Parse((await server.LogLinesAsync(1))[0]);
        Assert.Equal("127.0.0.1", entry.RootElement.GetProperty("client").GetString());
    }

    [Fact]
    public async Task TrustedProxiesInServeYamlAreAddressesOrNetworksAndAnythingElseNamesItsLine()
    {
        await File.WriteAllTextAsync(folder.Combine("serve.yaml"), """
            trusted_proxies: [10.0.0.0/8, "::1"]
            caches: {c: {mirror: /tmp/x}}
            """, Token);
        Assert.Equal(["10.0.0.0/8", "::1"], ServeConfig.Load(folder.Combine("serve.yaml")).TrustedProxies);

        await File.WriteAllTextAsync(folder.Combine("serve.yaml"), """
            caches: {c: {mirror: /tmp/x}}
            trusted_proxies:
              - 127.0.0.1
              - proxy.example.org
            """, Token);
        var error = Assert.Throws<DepotException>(() => ServeConfig.Load(folder.Combine("serve.yaml")));
        Assert.Equal($"{folder.Combine("serve.yaml")}: line 4, column 5: trusted_proxies: 'proxy.example.org' is not"
            + " an IP address or network (127.0.0.1, ::1, 10.0.0.0/8)", error.Message);

        await File.WriteAllTextAsync(folder.Combine("serve.yaml"), "caches: {c: {mirror: /tmp/x}}\n", Token);
        Assert.Equal(ServeConfig.DefaultTrustedProxies, ServeConfig.Load(folder.Combine("serve.yaml")).TrustedProxies);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=depot test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}
