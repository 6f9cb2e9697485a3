using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Depot.Catalog;
using Depot.Serving;
using Depot.Specs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Depot.Server;

/// <summary>
/// The catalog's JSON API under <c>/api/v1/</c> (documents written by <see cref="CatalogJson"/>): the caches a visitor
/// may see, and per cache search, packages, a package, a spec, keys and recent pushes. Read scope on a cache is enough
/// for all of it; anonymous visitors see public caches only, and for them an unknown cache and a private one answer
/// the same 401, so no private name leaks. Every answer is <c>Cache-Control: no-cache</c> with an ETag of its bytes
/// (a matching <c>If-None-Match</c> is 304); a search also says <c>Server-Timing: search;dur=MS</c>.
/// </summary>
internal static class CatalogApiEndpoints
{
    private const string Prefix = "/api/v1/caches";
    private const int MaxLimit = 500;

    // Bearer only: a Basic challenge would make a browser's fetch pop up a password dialog.
    private const string BearerChallenge = "Bearer realm=\"depot\", charset=\"UTF-8\"";

    public static void Map(IEndpointRouteBuilder routes, ServedCaches caches)
    {
        routes.MapGet(Prefix, (HttpContext http) => ListCachesAsync(http, caches));
        routes.MapGet(Prefix + "/{cache}/search", (HttpContext http, string cache) =>
            WithCacheAsync(http, caches, cache, SearchAsync));
        routes.MapGet(Prefix + "/{cache}/packages", (HttpContext http, string cache) =>
            WithCacheAsync(http, caches, cache, PackagesAsync));
        routes.MapGet(Prefix + "/{cache}/packages/{name}", (HttpContext http, string cache, string name) =>
            WithCacheAsync(http, caches, cache, (h, c) => PackageAsync(h, c, name)));
        routes.MapGet(Prefix + "/{cache}/specs/{hash}", (HttpContext http, string cache, string hash) =>
            WithCacheAsync(http, caches, cache, (h, c) => SpecAsync(h, c, hash)));
        routes.MapGet(Prefix + "/{cache}/keys", (HttpContext http, string cache) =>
            WithCacheAsync(http, caches, cache, async (h, c) =>
            {
                var keys = await c.GetKeysAsync(h.RequestAborted).ConfigureAwait(false);
                await AnswerAsync(h, w => CatalogJson.WriteKeys(w, keys)).ConfigureAwait(false);
            }));
        routes.MapGet(Prefix + "/{cache}/activity", (HttpContext http, string cache) =>
            WithCacheAsync(http, caches, cache, async (h, c) =>
            {
                var limit = Number(h, "limit", 20, 1, MaxLimit);
                var activity = await c.GetActivityAsync(limit, h.RequestAborted).ConfigureAwait(false);
                await AnswerAsync(h, w => CatalogJson.WriteActivity(w, activity)).ConfigureAwait(false);
            }));
        routes.MapGet(Prefix + "/{cache}", (HttpContext http, string cache) =>
            WithCacheAsync(http, caches, cache, async (h, c) =>
            {
                var summary = await c.GetSummaryAsync(h.RequestAborted).ConfigureAwait(false);
                await AnswerAsync(h, w => CatalogJson.WriteCaches(w, [summary])).ConfigureAwait(false);
            }));
    }

    /// <summary>The caches this visitor may read: public ones, and the one its token is for.</summary>
    private static async Task ListCachesAsync(HttpContext http, ServedCaches caches)
    {
        var sources = http.RequestServices.GetRequiredService<CatalogSources>();
        var (presented, problem) = CacheAccess.Credential(http.Request);
        string? tokenCache = null;
        if (problem is not null || presented is not null)
        {
            // A token must be good (as on every cache); then its own cache is listed too.
            var check = problem is null ? http.RequestServices.GetRequiredService<TokenStore>().Check(presented!)
                : null;
            if (check is not { Status: TokenStatus.Valid, Token: { } token })
            {
                http.Response.Headers.WWWAuthenticate = BearerChallenge;
                await HttpErrors.WriteAsync(http, StatusCodes.Status401Unauthorized,
                    problem ?? "unknown, revoked or expired token", ErrorKind.Authentication).ConfigureAwait(false);
                return;
            }

            http.Items[CacheAccess.TokenItem] = token.Display;
            tokenCache = token.Cache;
        }

        try
        {
            var summaries = new List<CacheSummary>();
            foreach (var cache in caches.All.Where(c => c.Config.Public || c.Name == tokenCache))
            {
                summaries.Add(await sources.Find(cache.Name)!.GetSummaryAsync(http.RequestAborted)
                    .ConfigureAwait(false));
            }

            await AnswerAsync(http, w => CatalogJson.WriteCaches(w, summaries)).ConfigureAwait(false);
        }
        catch (DepotException e)
        {
            await HttpErrors.WriteAsync(http, e).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="answer"/> when the visitor may read <paramref name="name"/>; otherwise answers the refusal:
    /// 401 alike for an unknown and a private cache without a token, else what <see cref="CacheAccess"/> says.
    /// </summary>
    private static async Task WithCacheAsync(HttpContext http, ServedCaches caches, string name,
        Func<HttpContext, ICatalogSource, Task> answer)
    {
        var cache = caches.Find(name);
        var (presented, problem) = CacheAccess.Credential(http.Request);
        if (presented is null && problem is null && cache is not { Config.Public: true })
        {
            http.Response.Headers.WWWAuthenticate = BearerChallenge;
            await HttpErrors.WriteAsync(http, StatusCodes.Status401Unauthorized,
                $"No public cache named {name} here; if it is private, sign in with a token",
                ErrorKind.Authentication).ConfigureAwait(false);
            return;
        }

        if (cache is null)
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status404NotFound, $"no cache named {name}",
                ErrorKind.NotFound).ConfigureAwait(false);
            return;
        }

        if (!await CacheAccess.AllowAsync(http, cache, TokenScope.Read).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            var source = http.RequestServices.GetRequiredService<CatalogSources>().Find(name)!;
            await answer(http, source).ConfigureAwait(false);
        }
        catch (DepotException e)
        {
            await HttpErrors.WriteAsync(http, e).ConfigureAwait(false);
        }
    }

    private static async Task SearchAsync(HttpContext http, ICatalogSource source)
    {
        var q = http.Request.Query;
        var query = new CatalogQuery(q["q"].ToString(), Filter(q["arch"]), Filter(q["os"]), Filter(q["compiler"]),
            Number(http, "offset", 0, 0, int.MaxValue), Number(http, "limit", 50, 0, MaxLimit));
        var result = await source.SearchAsync(query, http.RequestAborted).ConfigureAwait(false);
        http.Response.Headers["Server-Timing"] = "search;dur="
            + result.Took.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
        await AnswerAsync(http, w => CatalogJson.WriteSearch(w, result)).ConfigureAwait(false);
    }

    private static async Task PackagesAsync(HttpContext http, ICatalogSource source)
    {
        var listing = await source.GetPackagesAsync(Number(http, "offset", 0, 0, int.MaxValue),
            Number(http, "limit", 50, 0, MaxLimit), http.RequestAborted).ConfigureAwait(false);
        await AnswerAsync(http, w => CatalogJson.WritePackages(w, listing)).ConfigureAwait(false);
    }

    private static async Task PackageAsync(HttpContext http, ICatalogSource source, string name)
    {
        if (await source.GetPackageAsync(name, http.RequestAborted).ConfigureAwait(false) is not { } package)
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status404NotFound,
                $"cache {source.Name} holds no package {name}", ErrorKind.NotFound).ConfigureAwait(false);
            return;
        }

        await AnswerAsync(http, w => CatalogJson.WritePackage(w, package)).ConfigureAwait(false);
    }

    private static async Task SpecAsync(HttpContext http, ICatalogSource source, string hash)
    {
        if (!DagHash.IsValid(hash))
        {
            throw new DepotException(ErrorKind.Usage,
                $"hash: '{hash}' is not a DAG hash (32 characters, a-z and 2-7)");
        }

        var detail = await source.GetSpecAsync(hash, MirrorUrl(http, source.Name), http.RequestAborted)
            .ConfigureAwait(false);
        if (detail is null)
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status404NotFound,
                $"cache {source.Name} holds no spec {hash}", ErrorKind.NotFound).ConfigureAwait(false);
            return;
        }

        await AnswerAsync(http, w => CatalogJson.WriteSpec(w, detail)).ConfigureAwait(false);
    }

    /// <summary>The cache's URL as this request reached the server (forwarded host and scheme when trusted).</summary>
    internal static string MirrorUrl(HttpContext http, string cache) =>
        $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/{Uri.EscapeDataString(cache)}/";

    private static string? Filter(Microsoft.Extensions.Primitives.StringValues value) =>
        string.IsNullOrEmpty(value.ToString()) ? null : value.ToString();

    /// <exception cref="DepotException">Not a whole number in range (usage: 400 naming the parameter).</exception>
    private static int Number(HttpContext http, string name, int fallback, int min, int max)
    {
        var text = http.Request.Query[name].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min
            || value > max)
        {
            throw new DepotException(ErrorKind.Usage,
                $"{name}: expected a whole number from {min} to {max}, not '{(text.Length > 20 ? text[..20] : text)}'");
        }

        return value;
    }

    /// <summary>200 with the document, an ETag of its bytes and no-cache; 304 when the client has those bytes.
    /// </summary>
    private static async Task AnswerAsync(HttpContext http, Action<Utf8JsonWriter> write)
    {
        var body = CatalogJson.Write(write);
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 16)) + "\"";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.ETag = etag;
        if (http.Request.Headers.IfNoneMatch.Any(v => v is not null && (v == "*"
            || v.Split(',').Any(t => t.Trim().TrimStart('W', '/') == etag))))
        {
            http.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }
}
