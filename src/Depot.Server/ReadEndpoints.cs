using System.Globalization;
using Depot.Serving;
using Depot.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Depot.Server;

/// <summary>
/// GET and HEAD of any object of a cache at <c>/&lt;cache&gt;/&lt;key&gt;</c>, the paths Spack asks a mirror for
/// (v3's <c>v3/…</c> and <c>blobs/sha256/…</c>, v2's <c>build_cache/…</c>): streamed from the store with an ETag,
/// conditional requests, one byte range, and a Cache-Control that says how long a copy stays good.
/// </summary>
internal static class ReadEndpoints
{
    private const int CopyBuffer = 1 << 17;

    public static void Map(IEndpointRouteBuilder routes, ServedCaches caches)
    {
        routes.MapMethods("/{cache}/{**key}", [HttpMethods.Get, HttpMethods.Head],
            (HttpContext http, string cache, string? key) => ServeAsync(http, caches, cache, key ?? ""));
        routes.MapMethods("/{cache}/{**key}", [HttpMethods.Put, HttpMethods.Post, HttpMethods.Delete,
                HttpMethods.Patch],
            (HttpContext http, string cache) => RefuseWriteAsync(http, caches, cache));
    }

    private static async Task ServeAsync(HttpContext http, ServedCaches caches, string name, string key)
    {
        if (caches.Find(name) is not { } cache)
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status404NotFound, $"no cache named {name}",
                ErrorKind.NotFound).ConfigureAwait(false);
            return;
        }

        if (!await CacheAccess.AllowAsync(http, cache, TokenScope.Read).ConfigureAwait(false))
        {
            return;
        }

        if (key.Length == 0 || key.EndsWith('/'))
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status404NotFound,
                $"{name}/{key}: not an object (this is a Spack build cache: add its URL with spack mirror add)",
                ErrorKind.NotFound).ConfigureAwait(false);
            return;
        }

        try
        {
            await ServeObjectAsync(http, cache, key).ConfigureAwait(false);
        }
        catch (DepotException e) when (e is not StoreObjectNotFoundException)
        {
            await HttpErrors.WriteAsync(http, e).ConfigureAwait(false);
        }
        catch (StoreObjectNotFoundException)
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status404NotFound, $"{name}/{key}: not found",
                ErrorKind.NotFound).ConfigureAwait(false);
        }
    }

    private static async Task ServeObjectAsync(HttpContext http, ServedCache cache, string key)
    {
        var token = http.RequestAborted;
        Func<long, long?, Task<Stream>> open = (offset, length) => cache.OpenReadAsync(key, offset, length, token);
        StoreObject? info;
        var merged = false;
        if (cache.PullThrough is { } pull && await pull.ServedInsteadAsync(key, token).ConfigureAwait(false) is { }
            instead)
        {
            // The merged index of a pull-through cache, not the store's own.
            var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(instead));
            info = new StoreObject(key, instead.LongLength, null, digest);
            merged = true;
            open = (offset, length) => Task.FromResult<Stream>(new MemoryStream(instead, (int)offset,
                (int)(length ?? instead.LongLength - offset), writable: false));
        }
        else
        {
            info = await cache.GetInfoAsync(key, token).ConfigureAwait(false);
            if (info is null && cache.PullThrough is { } puller
                && await puller.FetchAsync(key, token).ConfigureAwait(false))
            {
                info = await cache.GetInfoAsync(key, token).ConfigureAwait(false);
            }
        }

        if (info is null)
        {
            throw new StoreObjectNotFoundException(key);
        }

        var response = http.Response;
        // An index's ETag is the digest of its bytes (a merged index's version already is).
        var etag = !merged && ServedKeys.FreshnessOf(key) == Freshness.Revalidate
            && await cache.ContentDigestAsync(key, info, token).ConfigureAwait(false) is { } contentDigest
            ? $"\"sha256:{contentDigest}\"" : ETagOf(key, info);
        response.Headers.ETag = etag;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.CacheControl = CacheControl(cache, key);
        if (info.LastModified is { } modified)
        {
            response.Headers.LastModified = modified.ToString("R", CultureInfo.InvariantCulture);
        }

        var request = http.Request.GetTypedHeaders();
        if (request.IfNoneMatch.Count > 0 && request.IfNoneMatch.Any(t => t.Equals(EntityTagHeaderValue.Any)
            || t.Tag.Equals(etag, StringComparison.Ordinal)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var rangeHeader = http.Request.Headers.Range.ToString();
        if (http.Request.Headers.IfRange.ToString() is { Length: > 0 } ifRange && ifRange != etag)
        {
            rangeHeader = "";
        }

        var (range, unsatisfiable) = RangeHeader.Parse(rangeHeader, info.Length);
        if (unsatisfiable)
        {
            response.Headers.ContentRange = $"bytes */{info.Length.ToString(CultureInfo.InvariantCulture)}";
            await HttpErrors.WriteAsync(http, StatusCodes.Status416RangeNotSatisfiable,
                $"{cache.Name}/{key}: range {rangeHeader} is outside its {info.Length} bytes", ErrorKind.Usage)
                .ConfigureAwait(false);
            return;
        }

        response.ContentType = ServedKeys.ContentType(key);
        var offset = range?.Offset ?? 0;
        var length = range?.Length ?? info.Length;
        if (range is { } r)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = r.ContentRange(info.Length);
        }

        response.ContentLength = length;
        if (HttpMethods.IsHead(http.Request.Method))
        {
            return;
        }

        await using var body = await open(offset, range?.Length).ConfigureAwait(false);
        await CopyToResponseAsync(body, response.BodyWriter, token).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the store's stream straight into the response's own buffers: one copy fewer per byte than
    /// <see cref="Stream.CopyToAsync(Stream, int, CancellationToken)"/> into the body stream (bench/serve.sh: CPU per
    /// byte is what limits throughput next to a load generator on the same cores). Each flush waits for the client.
    /// </summary>
    private static async Task CopyToResponseAsync(Stream source, System.IO.Pipelines.PipeWriter writer,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var memory = writer.GetMemory(CopyBuffer);
            var n = await source.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }

            writer.Advance(n);
            var flushed = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flushed.IsCompleted || flushed.IsCanceled)
            {
                return;
            }
        }
    }

    private static async Task RefuseWriteAsync(HttpContext http, ServedCaches caches, string name)
    {
        var cache = caches.Find(name);
        var reason = cache is null ? $"no cache named {name}"
            : cache.Config.ReadOnly ? $"cache {name} is read-only"
            : $"cache {name}: writes go through the upload API (depot push URL)";
        http.Response.Headers.Allow = "GET, HEAD";
        await HttpErrors.WriteAsync(http, cache is null ? StatusCodes.Status404NotFound
            : StatusCodes.Status405MethodNotAllowed, reason, ErrorKind.Unsupported).ConfigureAwait(false);
    }

    /// <summary>
    /// The digest for a content-addressed key (the strongest validator there is), else the store's version (ETag,
    /// generation), else size and time. Indexes get the digest of their bytes instead
    /// (<see cref="ServedCache.ContentDigestAsync"/>).
    /// </summary>
    internal static string ETagOf(string key, StoreObject info)
    {
        if (ServedKeys.Digest(key) is { } digest)
        {
            return $"\"sha256:{digest}\"";
        }

        if (info.Version is { Length: > 0 } version)
        {
            return "\"" + version.Trim('"').Replace("\"", "", StringComparison.Ordinal) + "\"";
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"\"{info.Length:x}-{info.LastModified?.ToUnixTimeMilliseconds() ?? 0:x}\"");
    }

    private static string CacheControl(ServedCache cache, string key)
    {
        var who = cache.Config.Public ? "public" : "private";
        return ServedKeys.FreshnessOf(key) switch
        {
            Freshness.Immutable => $"{who}, max-age=31536000, immutable",
            Freshness.Revalidate => $"{who}, no-cache",
            _ => $"{who}, max-age=60",
        };
    }
}
