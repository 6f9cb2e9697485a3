using System.Net;
using System.Security.Cryptography.X509Certificates;
using Depot.Catalog;
using Depot.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Depot.Server;

/// <summary>
/// <c>depot serve</c>: Kestrel in front of the caches of one configuration. Built from opened caches
/// (<see cref="ServedCaches.Open"/>), started, and stopped gracefully (requests in flight finish). Holds no state of
/// its own beyond the configuration: two servers over one store behave as one.
/// </summary>
public sealed class DepotServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private DepotServer(WebApplication app, ServedCaches caches)
    {
        this.app = app;
        Caches = caches;
    }

    /// <summary>How long requests in flight get to finish once the server is told to stop.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The caches served.</summary>
    public ServedCaches Caches { get; }

    /// <summary>The catalog of every cache (pages and the JSON API read it).</summary>
    public CatalogSources Catalogs => app.Services.GetRequiredService<CatalogSources>();

    /// <summary>The server's counters (what <c>/metrics</c> shows); endpoints record into it.</summary>
    public ServerMetrics Metrics => app.Services.GetRequiredService<ServerMetrics>();

    /// <summary>Base URLs the server listens on (after <see cref="StartAsync"/>: real ports, not 0).</summary>
    public IReadOnlyList<Uri> BaseUrls =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            .Select(a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal)
                .Replace("0.0.0.0", "localhost", StringComparison.Ordinal))).ToList() ?? [];

    /// <summary>
    /// The URL of each cache on the first address (<c>http://host:port/name/</c>), what a user adds to Spack.
    /// </summary>
    public IReadOnlyList<(string Cache, Uri Url)> CacheUrls =>
        BaseUrls.Count == 0 ? [] : Caches.All.Select(c => (c.Name, new Uri(BaseUrls[0], c.Name + "/"))).ToList();

    /// <summary>Builds the server (nothing listens until <see cref="StartAsync"/>).</summary>
    /// <exception cref="DepotException">A listen address or TLS file is unusable.</exception>
    /// <param name="caches">The caches to serve.</param>
    /// <param name="log">Where the server logs (null: nowhere).</param>
    /// <param name="tokens">The tokens (null: the configuration's tokens file); tests give one with their own clock.
    /// </param>
    /// <param name="requestLog">Where the request log goes (one JSON line per request), or nowhere.</param>
    /// <param name="catalogs">The web catalog's source of each cache (null: the caches' own); tests give their own.
    /// </param>
    public static DepotServer Create(ServedCaches caches, ILoggerProvider? log = null, TokenStore? tokens = null,
        TextWriter? requestLog = null, Func<ServedCache, ICatalogSource>? catalogs = null)
    {
        ArgumentNullException.ThrowIfNull(caches);
        var config = caches.Config;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (log is not null)
        {
            builder.Logging.AddProvider(log);
        }

        var metrics = new ServerMetrics();
        ServerOperations.AddServices(builder.Services, config, metrics);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddSingleton(tokens ?? new TokenStore(config.TokensFile));
        builder.Services.AddSingleton(_ => new CatalogSources(caches, catalogs));
        var certificate = config.Tls is { } tls ? LoadCertificate(tls) : null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = config.Limits.MaxBodyBytes;
            foreach (var address in config.Listen)
            {
                var endpoint = ParseListen(address);
                kestrel.Listen(endpoint, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    if (certificate is not null)
                    {
                        listen.UseHttps(certificate);
                    }
                });
            }
        });
        var app = builder.Build();
        TokenInPath.Use(app);
        ServerOperations.Use(app, caches, metrics, requestLog is null ? null : new RequestLog(requestLog));

        // Routing after the middleware above: an endpoint is chosen for the path as TokenInPath rewrote it.
        app.UseRouting();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (HttpContext http) =>
        {
            foreach (var cache in caches.All)
            {
                if (!await cache.IsReachableAsync(http.RequestAborted).ConfigureAwait(false))
                {
                    await HttpErrors.WriteAsync(http, StatusCodes.Status503ServiceUnavailable,
                        $"cache {cache.Name}: its store does not answer", ErrorKind.IO).ConfigureAwait(false);
                    return;
                }
            }

            await http.Response.WriteAsync("ready\n", http.RequestAborted).ConfigureAwait(false);
        });
        UploadEndpoints.Map(app, caches);
        CatalogApiEndpoints.Map(app, caches);
        var catalogSources = app.Services.GetRequiredService<CatalogSources>();
        CatalogEndpoints.Map(app, caches, (_, name) => catalogSources.Find(name));
        ReadEndpoints.Map(app, caches);
        return new DepotServer(app, caches);
    }

    /// <summary>Starts listening.</summary>
    /// <exception cref="DepotException">An address is in use or cannot be bound.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new DepotException(ErrorKind.IO, $"cannot listen on {string.Join(", ", Caches.Config.Listen)}: "
                + (e.InnerException?.Message ?? e.Message), e);
        }
    }

    /// <summary>Stops: no new connections; requests in flight get up to 30 s to finish.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => app.StopAsync(cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => app.DisposeAsync();

    /// <summary><c>host:port</c>, <c>[v6]:port</c>, <c>*:port</c> or <c>localhost:port</c> as an endpoint.</summary>
    /// <exception cref="DepotException">Anything else.</exception>
    internal static IPEndPoint ParseListen(string address)
    {
        var colon = address.LastIndexOf(':');
        var host = colon > 0 ? address[..colon] : "";
        var portText = colon > 0 ? address[(colon + 1)..] : "";
        if (!ushort.TryParse(portText, System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var port))
        {
            throw new DepotException(ErrorKind.Usage, $"listen address '{address}': expected HOST:PORT"
                + " (127.0.0.1:8080, [::1]:8080, *:8080)");
        }

        var ip = host switch
        {
            "*" or "0.0.0.0" => IPAddress.Any,
            "[::]" => IPAddress.IPv6Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host.Trim('[', ']'), out var parsed) ? parsed
                : throw new DepotException(ErrorKind.Usage,
                    $"listen address '{address}': '{host}' is not an IP address (127.0.0.1, ::1, * for all)"),
        };
        return new IPEndPoint(ip, port);
    }

    private static X509Certificate2 LoadCertificate(ServeTls tls)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(tls.CertificateFile, tls.KeyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException
            or System.Security.Cryptography.CryptographicException)
        {
            throw new DepotException(ErrorKind.InvalidContent,
                $"{tls.CertificateFile} / {tls.KeyFile}: cannot load the TLS certificate and key (PEM): {e.Message}",
                e);
        }
    }
}
