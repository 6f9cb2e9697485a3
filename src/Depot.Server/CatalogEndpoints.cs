using System.Globalization;
using System.Text;
using Depot.Catalog;
using Depot.Catalog.Pages;
using Depot.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Depot.Server;

/// <summary>
/// The web catalog's pages (<see cref="Depot.Catalog.Pages"/>): <c>/</c> the caches this visitor may see,
/// <c>/CACHE/</c> (also the Spack mirror root: its <c>v3/…</c>, <c>blobs/…</c>, <c>build_cache/…</c> stay the read
/// routes'; <c>/CACHE</c> redirects here), <c>/CACHE/package/NAME</c>, <c>/CACHE/spec/HASH</c>, <c>/CACHE/keys</c>,
/// and the two assets. Literal segments (<c>package</c>, <c>spec</c>, <c>keys</c>) win over the read routes'
/// <c>/{cache}/{**key}</c>. A cache the visitor may not see, and one that does not exist, answer the same 401 login
/// page. Pages are <c>no-cache</c> and carry a Content-Security-Policy that allows nothing inline.
/// </summary>
internal static class CatalogEndpoints
{
    /// <summary>What every page is sent with: scripts, styles and frames only from this site.</summary>
    public const string ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        + "script-src 'self'; frame-ancestors 'none'";

    private const int ActivityShown = 10;

    /// <param name="routes">Where to map.</param>
    /// <param name="caches">The served caches.</param>
    /// <param name="catalogOf">The catalog of a cache (null: no cache of that name).</param>
    public static void Map(IEndpointRouteBuilder routes, ServedCaches caches,
        Func<HttpContext, string, ICatalogSource?> catalogOf)
    {
        string[] read = [HttpMethods.Get, HttpMethods.Head];
        routes.MapMethods("/", read, (HttpContext http) => CachesAsync(http, caches, catalogOf));
        routes.MapMethods("/{cache}", read, (HttpContext http, string cache) =>
            http.Request.Path.Value!.EndsWith('/')
                ? WithCacheAsync(http, caches, catalogOf, cache, c => CacheAsync(http, c))
                : RedirectToFolder(http));
        routes.MapMethods("/{cache}/package/{name}", read, (HttpContext http, string cache, string name) =>
            WithCacheAsync(http, caches, catalogOf, cache, c => PackageAsync(http, c, name)));
        routes.MapMethods("/{cache}/spec/{hash}", read, (HttpContext http, string cache, string hash) =>
            WithCacheAsync(http, caches, catalogOf, cache, c => SpecAsync(http, c, hash)));
        routes.MapMethods("/{cache}/keys", read, (HttpContext http, string cache) =>
            WithCacheAsync(http, caches, catalogOf, cache, c => KeysAsync(http, c)));
        routes.MapMethods("/_depot/assets/{name}", read, (HttpContext http, string name) => AssetAsync(http, name));
        CatalogLogin.Map(routes);
    }

    /// <summary>
    /// Renders a page into memory (pages are small; a half-rendered page is never sent) and answers it with
    /// <paramref name="status"/> and the page headers.
    /// </summary>
    public static async Task PageAsync(HttpContext http, int status, Action<TextWriter, PageSettings> write)
    {
        var visitor = http.Items.TryGetValue(CacheAccess.TokenItem, out var token) && token is not null;
        var settings = PageSettings.Live(visitor, http.Request.Path.ToUriComponent() + http.Request.QueryString);
        using var buffer = new MemoryStream();
        using (var writer = new StreamWriter(buffer, new UTF8Encoding(false), 1 << 14, leaveOpen: true))
        {
            write(writer, settings);
        }

        var response = http.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = buffer.Length;
        response.Headers.CacheControl = "no-cache";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "same-origin";
        if (HttpMethods.IsHead(http.Request.Method))
        {
            return;
        }

        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), http.RequestAborted)
            .ConfigureAwait(false);
    }

    private static Task RedirectToFolder(HttpContext http)
    {
        http.Response.Redirect(http.Request.Path.ToUriComponent() + "/" + http.Request.QueryString,
            permanent: true);
        return Task.CompletedTask;
    }

    private static async Task CachesAsync(HttpContext http, ServedCaches caches,
        Func<HttpContext, string, ICatalogSource?> catalogOf)
    {
        var visitor = CatalogLogin.VisitorOf(http);
        var summaries = new List<CacheSummary>();
        foreach (var cache in caches.All.Where(visitor.MayRead))
        {
            if (catalogOf(http, cache.Name) is { } catalog)
            {
                summaries.Add(await catalog.GetSummaryAsync(http.RequestAborted).ConfigureAwait(false));
            }
        }

        await PageAsync(http, StatusCodes.Status200OK, (w, s) => CachesPage.Write(w, s, summaries))
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="page"/> when the visitor may read the cache, else answers the login page with 401 — the
    /// same page for a cache that does not exist and a private one (no private name leaks). A store that fails is an
    /// error page with the error's status.
    /// </summary>
    private static async Task WithCacheAsync(HttpContext http, ServedCaches caches,
        Func<HttpContext, string, ICatalogSource?> catalogOf, string name, Func<ICatalogSource, Task> page)
    {
        var visitor = CatalogLogin.VisitorOf(http);
        var cache = caches.Find(name);
        if (cache is null || !visitor.MayRead(cache) || catalogOf(http, name) is not { } catalog)
        {
            var message = visitor.Problem ?? LoginPage.NoSuchCache(name);
            await PageAsync(http, StatusCodes.Status401Unauthorized, (w, s) =>
                LoginPage.Write(w, s, message, CatalogLogin.LocalPath(s.RequestPath))).ConfigureAwait(false);
            return;
        }

        try
        {
            await page(catalog).ConfigureAwait(false);
        }
        catch (DepotException e) when (!http.Response.HasStarted)
        {
            await PageAsync(http, HttpErrors.StatusOf(e.Kind), (w, s) =>
                MessagePage.Write(w, s, "Cannot show this page", e.Message.ReplaceLineEndings(" "), name))
                .ConfigureAwait(false);
        }
    }

    private static async Task CacheAsync(HttpContext http, ICatalogSource catalog)
    {
        var request = http.Request.Query;
        var query = new CatalogQuery(request["q"].ToString().Trim(), Filter(request["arch"]), Filter(request["os"]),
            Filter(request["compiler"]), Whole(request["offset"], 0, 0, 1_000_000), CachePage.ResultsPerPage);
        var page = Whole(request["page"], 1, 1, 100_000);
        var token = http.RequestAborted;
        SearchResult results;
        string? problem = null;
        try
        {
            results = await catalog.SearchAsync(query, token).ConfigureAwait(false);
        }
        catch (DepotException e) when (e.Kind == ErrorKind.Usage)
        {
            problem = "Search: " + e.Message.ReplaceLineEndings(" ");
            results = new SearchResult(0, [], [], [], [], TimeSpan.Zero);
        }

        var model = new CachePageModel(await catalog.GetSummaryAsync(token).ConfigureAwait(false), query, results,
            await catalog.GetPackagesAsync((page - 1) * CachePage.PackagesPerPage, CachePage.PackagesPerPage, token)
                .ConfigureAwait(false), page,
            await catalog.GetActivityAsync(ActivityShown, token).ConfigureAwait(false), problem);
        await PageAsync(http, StatusCodes.Status200OK, (w, s) => CachePage.Write(w, s, model)).ConfigureAwait(false);
    }

    private static async Task PackageAsync(HttpContext http, ICatalogSource catalog, string name)
    {
        var package = await catalog.GetPackageAsync(name, http.RequestAborted).ConfigureAwait(false);
        await (package is null
            ? NotFoundAsync(http, catalog.Name, $"No package named {name} in {catalog.Name}.")
            : PageAsync(http, StatusCodes.Status200OK, (w, s) => PackagePage.Write(w, s, catalog.Name, package)))
            .ConfigureAwait(false);
    }

    private static async Task SpecAsync(HttpContext http, ICatalogSource catalog, string hash)
    {
        var request = http.Request;
        var mirrorUrl = $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}/"
            + CatalogLinksSegment(catalog.Name) + "/";
        var spec = await catalog.GetSpecAsync(hash, mirrorUrl, http.RequestAborted).ConfigureAwait(false);
        await (spec is null
            ? NotFoundAsync(http, catalog.Name, $"No spec with hash {hash} in {catalog.Name}.")
            : PageAsync(http, StatusCodes.Status200OK, (w, s) => SpecPage.Write(w, s, catalog.Name, spec)))
            .ConfigureAwait(false);
    }

    private static async Task KeysAsync(HttpContext http, ICatalogSource catalog)
    {
        var keys = await catalog.GetKeysAsync(http.RequestAborted).ConfigureAwait(false);
        await PageAsync(http, StatusCodes.Status200OK, (w, s) => KeysPage.Write(w, s, catalog.Name, keys))
            .ConfigureAwait(false);
    }

    private static Task NotFoundAsync(HttpContext http, string cache, string message) =>
        PageAsync(http, StatusCodes.Status404NotFound, (w, s) => MessagePage.Write(w, s, "Not found", message, cache));

    private static async Task AssetAsync(HttpContext http, string name)
    {
        if (CatalogAssets.Find(name) is not { } asset)
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status404NotFound, $"no asset named {name}",
                ErrorKind.NotFound).ConfigureAwait(false);
            return;
        }

        var response = http.Response;
        response.Headers.ETag = asset.ETag;
        response.Headers.CacheControl = "public, max-age=86400";
        response.Headers.XContentTypeOptions = "nosniff";
        if (http.Request.Headers.IfNoneMatch.Any(t => t == asset.ETag || t == "*"))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Length;
        if (HttpMethods.IsHead(http.Request.Method))
        {
            return;
        }

        await using var body = asset.OpenRead();
        await body.CopyToAsync(response.Body, http.RequestAborted).ConfigureAwait(false);
    }

    private static string CatalogLinksSegment(string name) => Uri.EscapeDataString(name);

    private static string? Filter(Microsoft.Extensions.Primitives.StringValues value) =>
        value.ToString().Trim() is { Length: > 0 } text ? text : null;

    /// <summary>A whole-number parameter, or <paramref name="fallback"/> when absent or not one; kept in range.
    /// </summary>
    private static int Whole(Microsoft.Extensions.Primitives.StringValues value, int fallback, int min, int max) =>
        int.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? Math.Clamp(n, min, max) : fallback;
}
