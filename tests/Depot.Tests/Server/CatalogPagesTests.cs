using System.Net;
using Depot.Tests.Catalog.Pages;

namespace Depot.Tests.Server;

/// <summary>
/// The catalog's pages on a real server: paths and redirects, the Spack mirror paths beside them, headers (no-cache,
/// Content-Security-Policy, nosniff), the assets, and the same 401 login page for an unknown and a private cache.
/// </summary>
public sealed class CatalogPagesTests
{
    [Fact]
    public async Task EachPageAnswersWithThePageHeaders()
    {
        await using var server = await CatalogPageServer.StartAsync();
        var zlib = server.Main.Rows.First(r => r.Name == "zlib");
        foreach (var path in new[] { "/", "/main/", "/main/?q=zlib", "/main/package/zlib", "/main/package/zlib/",
                     $"/main/spec/{zlib.Hash}", $"/main/spec/{zlib.Hash}/", "/main/keys", "/main/keys/",
                     "/_depot/login" })
        {
            var (response, body) = await server.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
            Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
            Assert.Equal("no-cache", response.Headers.CacheControl!.ToString());
            Assert.Equal("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                + "frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
            PageAssert.FollowsTheContract(body, "live");
        }
    }

    [Fact]
    public async Task TheCachePageRendersTheSearchOnTheServerAndTheMirrorPathsStillServeObjects()
    {
        await using var server = await CatalogPageServer.StartAsync();

        var (page, body) = await server.GetAsync("/main/?q=zlib%401.3&compiler=clang%4017.0.0");
        var layout = await server.GetAsync("/main/v3/layout.json");
        var bad = await server.GetAsync("/main/?q=%2F0189&page=x&offset=-4");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var hash = server.Main.Rows.Single(r => r.Name == "zlib" && r.Compiler == "clang@17.0.0").Hash;
        Assert.Equal([hash], PageAssert.Attributes(body, "<li class=\"result\"", "data-hash"));
        Assert.Contains("<p id=\"result-count\" aria-live=\"polite\">1 spec</p>", body, StringComparison.Ordinal);
        Assert.Contains("data-api=\"/api/v1/caches/main/\"", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, layout.Response.StatusCode);
        Assert.Contains("\"signing\"", layout.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, bad.Response.StatusCode); // parameters out of range: defaults
    }

    [Fact]
    public async Task ACacheWithoutTheSlashRedirectsToIt()
    {
        await using var server = await CatalogPageServer.StartAsync();

        var (response, _) = await server.GetAsync("/main?q=zlib");

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("/main/?q=zlib", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task AnUnknownSpecOrPackageIsA404Page()
    {
        await using var server = await CatalogPageServer.StartAsync();

        var spec = await server.GetAsync("/main/spec/" + new string('a', 32));
        var package = await server.GetAsync("/main/package/nothing");

        Assert.Equal(HttpStatusCode.NotFound, spec.Response.StatusCode);
        Assert.Contains("No spec with hash " + new string('a', 32) + " in main.", spec.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, package.Response.StatusCode);
        PageAssert.FollowsTheContract(package.Body, "live");
    }

    [Fact]
    public async Task AnonymousVisitorsGetTheSameLoginPageForAPrivateAndAnUnknownCache()
    {
        await using var server = await CatalogPageServer.StartAsync();
        var teamHash = server.Team.Rows[0].Hash;

        var (root, rootBody) = await server.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal(["main"], PageAssert.Attributes(rootBody, "<tr", "data-cache"));
        Assert.DoesNotContain("team", rootBody, StringComparison.Ordinal);

        foreach (var (privatePath, unknownPath) in new[]
                 {
                     ("/team/", "/nope/"), ("/team/keys", "/nope/keys"), ($"/team/spec/{teamHash}",
                         $"/nope/spec/{teamHash}"), ("/team/package/zlib", "/nope/package/zlib"),
                 })
        {
            var (hidden, hiddenBody) = await server.GetAsync(privatePath);
            var (unknown, unknownBody) = await server.GetAsync(unknownPath);
            Assert.Equal(HttpStatusCode.Unauthorized, hidden.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
            Assert.Equal(unknownBody.Replace("nope", "NAME", StringComparison.Ordinal),
                hiddenBody.Replace("team", "NAME", StringComparison.Ordinal));
            Assert.Equal(unknown.Headers.Select(h => h.Key).Order(), hidden.Headers.Select(h => h.Key).Order());
            Assert.Contains("<p id=\"login-message\">No public cache named team here; if it is private, sign in with "
                + "a token.</p>", hiddenBody, StringComparison.Ordinal);
            Assert.Contains("<form id=\"login\"", hiddenBody, StringComparison.Ordinal);
            Assert.DoesNotContain(server.Team.Rows[0].Hash[..7] + "</code>", hiddenBody, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PagesOfARealSpackMirrorLinkItsSpecsAndSayTheirSignature()
    {
        // The engine's own catalog (CacheCatalog) over the signed Spack 1.2 mirror; this server trusts no key.
        await using var server = await RunningServer.StartAsync(TestData.Path(TestData.V3Signed));
        var token = TestContext.Current.CancellationToken;

        var cachePage = await server.Client.GetStringAsync("/mirror-signed/?q=greet", token);
        var specLinks = PageAssert.Attributes(cachePage, "<a class=\"spec-link\"", "href")
            .Where(h => h.StartsWith("/mirror-signed/spec/", StringComparison.Ordinal)).Distinct().ToList();
        Assert.NotEmpty(specLinks);
        var withDependencies = 0;
        foreach (var link in specLinks)
        {
            var page = await server.Client.GetStringAsync(link, token);
            PageAssert.FollowsTheContract(page, "live");
            Assert.Contains("data-state=\"untrusted\"", page, StringComparison.Ordinal);
            Assert.Contains($"<code id=\"spec-hash\">{link[^32..]}</code>", page, StringComparison.Ordinal);
            Assert.Contains($"spack install --use-buildcache only /{link[^32..]}", page, StringComparison.Ordinal);
            Assert.Contains("<figure id=\"dag\">", page, StringComparison.Ordinal);
            var dependencies = PageAssert.Attributes(page[page.IndexOf("<section id=\"dependencies\"",
                StringComparison.Ordinal)..], "<a class=\"spec-link\"", "href");
            foreach (var dependency in dependencies.Take(3))
            {
                var response = await server.Client.GetAsync(dependency, token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                withDependencies++;
            }
        }

        Assert.True(withDependencies > 0, "no spec page linked a dependency");
        var keys = await server.Client.GetStringAsync("/mirror-signed/keys", token);
        var download = PageAssert.Attributes(keys, "<a class=\"key-download\"", "href").First();
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync(download, token)).StatusCode);
    }

    [Fact]
    public async Task AssetsAreServedWithAnETagAndADayOfCaching()
    {
        await using var server = await CatalogPageServer.StartAsync();
        var token = TestContext.Current.CancellationToken;

        var (css, cssBody) = await server.GetAsync("/_depot/assets/catalog.css");
        var (js, _) = await server.GetAsync("/_depot/assets/catalog.js");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/_depot/assets/catalog.css");
        again.Headers.TryAddWithoutValidation("If-None-Match", css.Headers.ETag!.ToString());
        var revalidated = await server.Client.SendAsync(again, token);
        var (missing, _) = await server.GetAsync("/_depot/assets/other.js");

        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Equal("text/css; charset=utf-8", css.Content.Headers.ContentType!.ToString());
        Assert.Equal("public, max-age=86400", css.Headers.CacheControl!.ToString());
        Assert.Contains("prefers-color-scheme: dark", cssBody, StringComparison.Ordinal);
        Assert.DoesNotContain("url(http", cssBody, StringComparison.Ordinal);
        Assert.Equal("text/javascript; charset=utf-8", js.Content.Headers.ContentType!.ToString());
        Assert.NotEqual(css.Headers.ETag, js.Headers.ETag);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
