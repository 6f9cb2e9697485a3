using System.Diagnostics;
using System.Net;
using Depot.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Depot.Server;

/// <summary>
/// What runs around every request, before any endpoint: the client's address from <c>X-Forwarded-*</c> when a trusted
/// proxy sent them, the request log and metrics, and the limits (body size, uploads at once). Kept apart from
/// <see cref="DepotServer.Create"/> so that the endpoints stay about build caches.
/// </summary>
internal static class ServerOperations
{
    /// <summary>Registers the services (metrics, forwarded-header trust) before the app is built.</summary>
    /// <exception cref="DepotException">A trusted proxy that is neither an address nor a network.</exception>
    public static void AddServices(IServiceCollection services, ServeConfig config, ServerMetrics metrics)
    {
        services.AddSingleton(metrics);
        var trusted = TrustedProxies.Parse(config.TrustedProxies, config.Source);
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto
                | ForwardedHeaders.XForwardedHost;

            // Every hop from the right that is a trusted proxy is peeled off; the first untrusted one is the client.
            o.ForwardLimit = null;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var network in trusted)
            {
                o.KnownIPNetworks.Add(network);
            }
        });
    }

    /// <summary>Adds the middleware (first in the pipeline) and <c>/metrics</c>.</summary>
    public static void Use(WebApplication app, ServedCaches caches, ServerMetrics metrics, RequestLog? log)
    {
        // No trusted proxy: the headers are not looked at (the middleware with no known proxy would trust any).
        if (caches.Config.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        var limits = caches.Config.Limits;
        var uploads = new SemaphoreSlim(limits.MaxConcurrentUploads);
        app.Use(async (http, next) =>
        {
            var arrived = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            var cache = CacheOf(http.Request.Path, caches);
            var sent = new CountingBodyFeature(http.Features.GetRequiredFeature<IHttpResponseBodyFeature>());
            http.Features.Set<IHttpResponseBodyFeature>(sent);

            // The request body is left as Kestrel gives it (uploads read its pipe in place): its declared length.
            var read = http.Request.ContentLength ?? 0;
            using var started = metrics.Started();
            string? error = null;
            try
            {
                await LimitAsync(http, next, cache, limits, uploads).ConfigureAwait(false);
            }
            catch (Exception e) when (!http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
            {
                // A bug or an error nobody turned into a status: the client gets one line, the log the exception
                // (its message names files and keys, never a secret: engine messages are written for users).
                error = $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";
                if (ErrorKinds.Of(e) is { } kind)
                {
                    // An I/O failure against the store nobody translated: the store's problem, not a bug.
                    await HttpErrors.WriteAsync(http, HttpErrors.StatusOf(kind), Posix.PermissionDenied.MessageOf(e),
                        kind).ConfigureAwait(false);
                }
                else
                {
                    await HttpErrors.WriteAsync(http, StatusCodes.Status500InternalServerError,
                        "internal error (the server's log has it)").ConfigureAwait(false);
                }
            }
            finally
            {
                var status = error is not null ? http.Response.StatusCode
                    : http.RequestAborted.IsCancellationRequested ? 499 : http.Response.StatusCode;
                if (status == 499)
                {
                    metrics.Error(cache, "aborted");
                }

                metrics.Request(cache, http.Request.Method, status, sent.Count, read, clock.Elapsed);
                log?.Write(new RequestLog.Entry(arrived, http.Request.Method, http.Request.Path.ToUriComponent(),
                    status, sent.Count, read, clock.Elapsed, cache, http.Connection.RemoteIpAddress?.ToString(),
                    http.Items.TryGetValue(CacheAccess.TokenItem, out var token) ? token as string : null, error));
            }
        });
        app.MapGet("/metrics", (HttpContext http) =>
        {
            http.Response.ContentType = ServerMetrics.ContentType;
            http.Response.Headers.CacheControl = "no-store";
            return http.Response.WriteAsync(metrics.ToString(), http.RequestAborted);
        });
    }

    /// <summary>
    /// Refuses a body declared larger than the limit before anything reads it (413; Kestrel still counts a body
    /// without a length), and lets at most <see cref="ServeLimits.MaxConcurrentUploads"/> requests with a body into a
    /// cache at once: the others wait their turn (or until the client gives up).
    /// </summary>
    private static async Task LimitAsync(HttpContext http, Func<Task> next, string? cache, ServeLimits limits,
        SemaphoreSlim uploads)
    {
        var request = http.Request;
        if (request.ContentLength > limits.MaxBodyBytes)
        {
            // The body stays unread: the connection cannot carry another request, and the client must not reuse it.
            http.Response.Headers.Connection = "close";
            await HttpErrors.WriteAsync(http, StatusCodes.Status413PayloadTooLarge,
                $"request body of {request.ContentLength} bytes is over this server's limit of {limits.MaxBodyBytes}",
                ErrorKind.Usage).ConfigureAwait(false);
            return;
        }

        var upload = cache is not null && (HttpMethods.IsPut(request.Method) || HttpMethods.IsPost(request.Method)
            || HttpMethods.IsPatch(request.Method));
        if (!upload)
        {
            await next().ConfigureAwait(false);
            return;
        }

        await uploads.WaitAsync(http.RequestAborted).ConfigureAwait(false);
        try
        {
            await next().ConfigureAwait(false);
        }
        finally
        {
            uploads.Release();
        }
    }

    /// <summary>The served cache the path's first segment names, or null (health, metrics, unknown names).</summary>
    private static string? CacheOf(PathString path, ServedCaches caches)
    {
        var value = path.Value ?? "";
        var start = value.StartsWith('/') ? 1 : 0;
        var end = value.IndexOf('/', start);
        var segment = end < 0 ? value[start..] : value[start..end];
        return segment.Length > 0 && caches.Find(segment) is { } cache ? cache.Name : null;
    }
}

/// <summary>The proxies whose <c>X-Forwarded-*</c> headers are believed: addresses or networks (CIDR).</summary>
internal static class TrustedProxies
{
    /// <summary>Addresses (<c>10.0.0.5</c>) and networks (<c>10.0.0.0/8</c>) as networks.</summary>
    /// <exception cref="DepotException">An entry that is neither.</exception>
    public static IReadOnlyList<System.Net.IPNetwork> Parse(IReadOnlyList<string> entries, string? source)
    {
        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in entries)
        {
            if (System.Net.IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                networks.Add(new System.Net.IPNetwork(address, address.GetAddressBytes().Length * 8));
            }
            else
            {
                throw new DepotException(ErrorKind.InvalidContent, (source is null ? "" : source + ": ")
                    + $"trusted_proxies: '{entry}' is not an IP address or network (127.0.0.1, 10.0.0.0/8, ::1)");
            }
        }

        return networks;
    }
}
