using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Depot.Tests.Storage;

/// <summary>
/// A Kestrel server on a loopback address (127.0.0.1, or 127.0.0.2 as "another host": all of 127.0.0.0/8 is
/// loopback) that answers as the test says and records what every request carried, Authorization above all.
/// </summary>
public sealed class HostileServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private HostileServer(WebApplication app, string origin)
    {
        this.app = app;
        Origin = origin;
    }

    /// <summary><c>http://127.0.0.2:PORT</c> (or https): where the server is.</summary>
    public string Origin { get; }

    /// <summary>host:port, as an OCI reference names a registry.</summary>
    public string Authority => new Uri(Origin).Authority;

    /// <summary>Every request: method, path and query, and the Authorization header (null when none).</summary>
    public ConcurrentQueue<(string Method, string Target, string? Authorization)> Requests { get; } = new();

    /// <summary>The Authorization headers this server received.</summary>
    public IReadOnlyList<string> Authorizations => Requests.Select(r => r.Authorization).OfType<string>().ToList();

    /// <summary>The fixture's certificate for 127.0.0.1 (its CA is <see cref="DockerRegistry.CaCertificate"/>), for
    /// https servers.</summary>
    public static X509Certificate2 FixtureCertificate()
    {
        using var pem = X509Certificate2.CreateFromPemFile(TestData.Path("spack-1.2-oci/tls/server.pem"),
            TestData.Path("spack-1.2-oci/tls/server.key"));
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pfx), null);
    }

    public static async Task<HostileServer> StartAsync(string address, Func<HttpContext, Task> answer,
        X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MinResponseDataRate = null; // slow answers are the point of some tests
            k.Listen(IPAddress.Parse(address), 0, o =>
            {
                if (certificate is not null)
                {
                    o.UseHttps(certificate);
                }
            });
        });
        var app = builder.Build();
        HostileServer? server = null;
        app.Run(async context =>
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            server!.Requests.Enqueue((context.Request.Method, context.Request.Path + context.Request.QueryString,
                authorization.Length > 0 ? authorization : null));
            try
            {
                await answer(context);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ConnectionResetException)
            {
                // The client hung up, as it should on a hostile answer.
            }
        });
        await app.StartAsync();
        server = new HostileServer(app, app.Urls.First());
        return server;
    }

    /// <summary>Sends <paramref name="total"/> zero bytes from one reused buffer (so the server allocates next to
    /// nothing).</summary>
    public static async Task SendZerosAsync(HttpContext context, long total, bool announce)
    {
        if (announce)
        {
            context.Response.ContentLength = total;
        }

        var chunk = new byte[1 << 20];
        for (long sent = 0; sent < total && !context.RequestAborted.IsCancellationRequested; sent += chunk.Length)
        {
            await context.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, total - sent)),
                context.RequestAborted);
        }
    }

    /// <summary>Sends <paramref name="text"/> one byte every <paramref name="pause"/>.</summary>
    public static async Task TrickleAsync(HttpContext context, string text, TimeSpan pause)
    {
        await context.Response.StartAsync(context.RequestAborted);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            await context.Response.Body.WriteAsync(new[] { b }, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(pause, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
