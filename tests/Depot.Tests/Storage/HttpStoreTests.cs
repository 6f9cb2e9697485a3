using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Depot.Tests.Storage;

/// <summary>A read-only HTTP mirror served by Kestrel from a fixture folder: read side of the contract, list and
/// install.</summary>
public sealed class HttpStoreTests : IAsyncLifetime
{
    private readonly TempDir cache = new();
    private readonly TempDir served = TestData.InstallableV3(TestData.V3Signed);
    private WebApplication? app;
    private int requests;
    private string url = "";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        app = builder.Build();
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref requests);
            await next(context);
        });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(served.Path),
            ServeUnknownFileTypes = true,
            DefaultContentType = "application/octet-stream",
        });
        await app.StartAsync(Token);
        url = app.Urls.First() + "/";
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        cache.Dispose();
        served.Dispose();
    }

    [Fact]
    public async Task ReadsLikeEveryStoreAndRefusesWrites()
    {
        using var store = new HttpStore(url, cache.Path);
        var local = TestData.Path(TestData.V3Signed + "/v3/layout.json");
        Assert.Equal(await File.ReadAllBytesAsync(local, Token),
            await store.ReadAllBytesAsync("v3/layout.json", 1 << 20, Token));
        Assert.Equal(new FileInfo(local).Length, (await store.GetInfoAsync("v3/layout.json", Token))!.Length);
        Assert.Null(await store.GetInfoAsync("v3/nothing.json", Token));
        await Assert.ThrowsAsync<StoreObjectNotFoundException>(() => store.OpenReadAsync("v3/nothing.json", Token));
        var e = Assert.Throws<ReadOnlyStoreException>(() => ((IStoreReader)store).RequireWritable());
        Assert.Contains("read-only", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DepotException>(() => store.GetInfoAsync("../escape", Token));
    }

    [Fact]
    public async Task AFreshIndexIsNotDownloadedTwice()
    {
        using (var first = new HttpStore(url, cache.Path, TimeSpan.Zero))
        {
            await first.ReadAllBytesAsync("v3/manifests/index/index.manifest.json", 1 << 20, Token);
        }

        using var second = new HttpStore(url, cache.Path, TimeSpan.Zero);
        var before = requests;
        var again = await second.ReadAllBytesAsync("v3/manifests/index/index.manifest.json", 1 << 20, Token);
        Assert.Equal(await File.ReadAllBytesAsync(TestData.Path(TestData.V3Signed
            + "/v3/manifests/index/index.manifest.json"), Token), again);
        Assert.Equal(1, requests - before); // one conditional GET, answered 304

        using var withinTtl = new HttpStore(url, cache.Path, TimeSpan.FromMinutes(10));
        before = requests;
        await withinTtl.ReadAllBytesAsync("v3/manifests/index/index.manifest.json", 1 << 20, Token);
        Assert.Equal(0, requests - before); // fresh: not asked at all
    }

    [Fact]
    public async Task ListAndInstallWorkFromTheIndexOverHttp()
    {
        using var store = new HttpStore(url, cache.Path);
        var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Equal(5, listed.Rows.Count);

        using var root = new TempDir();
        var trust = Depot.Tests.Operations.InstallOperationTests.FixtureTrust(url);
        var result = await InstallOperation.RunAsync([Mirror.Of(store, trust, name: url)], [SpecQuery.Parse("greet")],
            new InstallOptions(new PlainRootTarget(root.Path)), null, Token);
        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        var greet = result.Outcomes.Single(o => o.Name == "greet").Prefix!;
        Assert.Equal("Hello, world.",
            Depot.Tests.Operations.InstallOperationTests.Run(Path.Combine(greet, "bin/greet")));

        // Verify takes the entries from the index: every signature, spec and tarball checked over HTTP.
        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, trust), new VerifyOptions([]), null, Token);
        Assert.Equal((5, 5), (verified.Checked, verified.Signed));
        Assert.Empty(verified.Failures);
    }

    [Fact]
    public async Task AnUnreachableServerIsNamed()
    {
        using var store = new HttpStore("http://127.0.0.1:9/mirror", cache.Path);
        var e = await Assert.ThrowsAsync<DepotException>(() => store.GetInfoAsync("v3/layout.json", Token));
        Assert.Contains("http://127.0.0.1:9/mirror/v3/layout.json: cannot reach the server", e.Message,
            StringComparison.Ordinal);
    }
}

/// <summary>
/// HTTPS: the store trusts what the system trusts, and a private CA is added the usual way (<c>SSL_CERT_FILE</c>), as
/// for curl or Spack. Run as a real process so the variable is read at start, as it would be.
/// </summary>
public sealed class HttpsStoreTests : IAsyncLifetime
{
    private readonly TempDir temp = new();
    private WebApplication? app;
    private string url = "";
    private string caFile = "";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        using var caKey = System.Security.Cryptography.RSA.Create(2048);
        var caRequest = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Depot Test CA", caKey,
            System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(
            new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key,
            System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(12),
            [1, 2, 3, 4]);
        var server = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(
            System.Security.Cryptography.X509Certificates.RSACertificateExtensions.CopyWithPrivateKey(issued, key)
                .Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), null);
        caFile = Path.Combine(temp.Path, "ca.pem");
        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem(), Token);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.UseHttps(server)));
        app = builder.Build();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(TestData.Path(TestData.V2Signed)),
            ServeUnknownFileTypes = true,
        });
        await app.StartAsync(Token);
        url = app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/";
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        temp.Dispose();
    }

    [Fact]
    public async Task AnHttpsMirrorWithAPrivateCaListsOnceTheCaIsTrusted()
    {
        Assert.StartsWith("https://127.0.0.1:", url, StringComparison.Ordinal);
        var (untrusted, _, error) = await RunCliAsync(null, "list", url, "-L");
        Assert.Equal(Depot.Cli.ExitCodes.IO, untrusted);
        Assert.Contains("cannot reach the server", error, StringComparison.Ordinal);

        var (code, output, err) = await RunCliAsync(caFile, "list", url, "-L");
        Assert.True(code == 0, err);
        Assert.Contains("tnhxyeebiakcjb3lvymiwx63ueuccyl6 greet@1.0.0", output, StringComparison.Ordinal);
    }

    private async Task<(int, string, string)> RunCliAsync(string? certFile, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet",
            ["exec", Path.Combine(AppContext.BaseDirectory, "Depot.Cli.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DEPOT_HOME"] = Path.Combine(temp.Path, "home") },
        };
        if (certFile is not null)
        {
            start.Environment["SSL_CERT_FILE"] = certFile;
        }
        else
        {
            start.Environment.Remove("SSL_CERT_FILE");
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Token);
        var error = process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        return (process.ExitCode, await output, await error);
    }
}
