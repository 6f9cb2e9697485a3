using Depot.Catalog;
using Depot.Catalog.Pages;

namespace Depot.Tests.Catalog.Pages;

/// <summary>The pages as the contract describes them: ids and classes the browser tests select, links, modes.
/// </summary>
public sealed class PageRendererTests
{
    private static readonly PageSettings Live = PageSettings.Live(signedIn: false, "/main/");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CachesPageListsEachCacheWithItsVisibility()
    {
        var summaries = new[]
        {
            await FakeCatalogSource.Sample("main").GetSummaryAsync(Token),
            await FakeCatalogSource.Sample("team", isPublic: false).GetSummaryAsync(Token),
        };
        var html = PageAssert.Render(w => CachesPage.Write(w, PageSettings.Live(true, "/"), summaries));

        PageAssert.FollowsTheContract(html, "live");
        Assert.Contains("<table id=\"caches\">", html, StringComparison.Ordinal);
        Assert.Equal(["main", "team"], PageAssert.Attributes(html, "<tr", "data-cache"));
        Assert.Equal(["/main/", "/team/"], PageAssert.Attributes(html, "<a class=\"cache-link\"", "href"));
        Assert.Contains("<td class=\"visibility\">public</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"visibility\">private</td>", html, StringComparison.Ordinal);
        Assert.Contains("title=\"123,456,789 bytes\">118 MiB</span>", html, StringComparison.Ordinal);
        Assert.Contains("Sign out", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CachePageHasTheSearchFormResultsPackagesActivityAndKeysLink()
    {
        var source = FakeCatalogSource.Sample();
        var html = await RenderCacheAsync(source, new CatalogQuery("zlib"), Live);

        PageAssert.FollowsTheContract(html, "live");
        Assert.Contains("data-api=\"/api/v1/caches/main/\"", html, StringComparison.Ordinal);
        Assert.Contains("<form id=\"search-form\" method=\"get\" action=\"/main/\" role=\"search\"", html,
            StringComparison.Ordinal);
        Assert.Contains("<label for=\"search\">", html, StringComparison.Ordinal);
        Assert.Contains("<input id=\"search\" type=\"search\" name=\"q\" value=\"zlib\"", html,
            StringComparison.Ordinal);
        foreach (var filter in new[] { "arch", "os", "compiler" })
        {
            Assert.Contains($"<label for=\"{filter}\">", html, StringComparison.Ordinal);
            Assert.Contains($"<select id=\"{filter}\" name=\"{filter}\"><option value=\"\">any</option>", html,
                StringComparison.Ordinal);
        }

        Assert.Contains("<option value=\"clang@17.0.0\">clang@17.0.0 (1)</option>", html, StringComparison.Ordinal);
        Assert.Contains("<p id=\"result-count\" aria-live=\"polite\">3 specs</p>", html, StringComparison.Ordinal);
        var zlib = source.Rows.Where(r => r.Name == "zlib").Select(r => r.Hash).ToList();
        Assert.Equal(zlib, PageAssert.Attributes(html, "<li class=\"result\"", "data-hash"));
        Assert.Contains($"<a class=\"spec-link\" href=\"/main/spec/{zlib[0]}\">zlib@1.3.1</a> <code class=\"hash\">"
            + $"/{zlib[0][..7]}</code>", html, StringComparison.Ordinal);
        Assert.Contains("<section id=\"packages\"", html, StringComparison.Ordinal);
        Assert.Contains("<a class=\"package-link\" href=\"/main/package/cmake\">cmake</a>", html,
            StringComparison.Ordinal);
        Assert.Contains("<section id=\"activity\"", html, StringComparison.Ordinal);
        Assert.Contains("<a id=\"keys-link\" href=\"/main/keys\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("nav class=\"pager\"", html, StringComparison.Ordinal); // one page of packages
    }

    [Fact]
    public async Task ManyPackagesArePagedWithLinksThatKeepTheSearch()
    {
        var source = FakeCatalogSource.Synthetic("big", 2500); // 250 packages: three pages
        var html = await RenderCacheAsync(source, new CatalogQuery("pkg", Compiler: "gcc@12.2.0"), Live, page: 2);

        Assert.Equal(["/big/?q=pkg&compiler=gcc%4012.2.0"],
            PageAssert.Attributes(html, "<a rel=\"prev\"", "href"));
        Assert.Equal(["/big/?q=pkg&compiler=gcc%4012.2.0&page=3"],
            PageAssert.Attributes(html, "<a rel=\"next\"", "href"));
        Assert.Contains("Page 2 of 3", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/big/package/pkg00100\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/big/package/pkg00099\"", html, StringComparison.Ordinal);
        Assert.Contains("1,666 specs, 1–50 shown", html, StringComparison.Ordinal);
        Assert.Contains("<p class=\"more-results\"><a href=\"/big/?q=pkg&amp;compiler=gcc%4012.2.0&amp;offset=50"
            + "&amp;page=2\" rel=\"next\">Next 50 results</a>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaticPagesLinkRelativelyAndSearchTheExportedIndex()
    {
        var source = FakeCatalogSource.Synthetic("big", 1500);
        var html = await RenderCacheAsync(source, new CatalogQuery(""), PageSettings.Static(1));

        PageAssert.FollowsTheContract(html, "static");
        Assert.Contains("<body data-mode=\"static\" data-root=\"../\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-api", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Sign in", html, StringComparison.Ordinal);
        Assert.Contains("data-index=\"../big/search.json\"", html, StringComparison.Ordinal);
        Assert.Contains("data-spec-href=\"../big/spec/HASH/index.html\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"../_depot/assets/catalog.css\"", html, StringComparison.Ordinal);
        Assert.Contains("<a class=\"site-name\" href=\"../index.html\">", html, StringComparison.Ordinal);
        Assert.Equal(["../big/packages/2/index.html"], PageAssert.Attributes(html, "<a rel=\"next\"", "href"));
        Assert.DoesNotContain("more-results", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PackagePageTabulatesVersionsByArchitectureAndCompiler()
    {
        var source = FakeCatalogSource.Sample();
        var package = (await source.GetPackageAsync("zlib", Token))!;
        var html = PageAssert.Render(w => PackagePage.Write(w, Live, "main", package));

        PageAssert.FollowsTheContract(html, "live");
        Assert.Contains("<table id=\"versions\">", html, StringComparison.Ordinal);
        Assert.Equal(["1.3.1", "1.2.13"], PageAssert.Attributes(html, "<tr", "data-version"));
        Assert.Equal(["clang@17.0.0", "gcc@12.2.0"], PageAssert.Attributes(html, "<th scope=\"col\"", "data-compiler"));
        var links = PageAssert.Attributes(html, "<a class=\"spec-link\"", "href");
        Assert.Equal(package.Specs.Select(s => "/main/spec/" + s.Hash).Order(), links.Order());
    }

    [Fact]
    public async Task SpecPageShowsFactsSignatureSizesInstallDependenciesAndGraph()
    {
        var source = FakeCatalogSource.Sample();
        var cmake = source.Rows.Single(r => r.Name == "cmake");
        var spec = (await source.GetSpecAsync(cmake.Hash, "https://cache.example/main/", Token))!;
        var html = PageAssert.Render(w => SpecPage.Write(w, Live, "main", spec));

        PageAssert.FollowsTheContract(html, "live");
        Assert.Contains($"<code id=\"spec-hash\">{cmake.Hash}</code>", html, StringComparison.Ordinal);
        Assert.Contains("<dl id=\"spec-facts\"", html, StringComparison.Ordinal);
        foreach (var fact in new[] { "Version", "Variants", "Compiler", "Target", "OS", "Platform", "Namespace",
                     "Layout" })
        {
            Assert.Contains($"<dt>{fact}</dt>", html, StringComparison.Ordinal);
        }

        Assert.Contains("<dd>~doc build_system=generic</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<p id=\"signature\" class=\"badge badge-unsigned\" data-state=\"unsigned\">Unsigned</p>", html,
            StringComparison.Ordinal);
        Assert.Contains("<span id=\"size-compressed\" title=\"4,096 bytes\">4 KiB</span>", html,
            StringComparison.Ordinal);
        Assert.Contains("<span id=\"size-uncompressed\" title=\"1,048,576 bytes\">1 MiB</span>", html,
            StringComparison.Ordinal);
        Assert.Contains("<time id=\"pushed-at\" datetime=\"2026-11-30T12:00:00Z\">", html, StringComparison.Ordinal);
        foreach (var id in new[] { "install-spack", "install-depot", "spack-yaml" })
        {
            Assert.Matches(
                $"<button type=\"button\" class=\"copy\" data-copy=\"{id}\" aria-label=\"Copy [^\"]+\"", html);
            Assert.Contains($"<pre id=\"{id}\">", html, StringComparison.Ordinal);
        }

        Assert.Contains("spack install --use-buildcache only /" + cmake.Hash, html, StringComparison.Ordinal);

        // Dependencies: two in the cache (links), ncurses not (text); zlib's dependents are openssl and cmake.
        var dependencies = Section(html, "dependencies");
        Assert.Equal(2, PageAssert.Attributes(dependencies, "<a class=\"spec-link\"", "href").Count);
        Assert.Contains("<span class=\"absent\">ncurses@6.4</span>", dependencies, StringComparison.Ordinal);
        Assert.Contains("<span class=\"types\">build, link</span>", dependencies, StringComparison.Ordinal);
        Assert.Contains("<section id=\"dependents\"", html, StringComparison.Ordinal);

        Assert.Matches("<figure id=\"dag\">\\s*<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
            + "aria-label=\"Dependency graph of cmake@3.27.9: 4 specs, 4 dependency edges, 3 levels deep.\"", html);
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Count(html, "<g class=\"node[^\"]*\""));
        var edges = PageAssert.Attributes(html, "<path class=\"edge\"", "d").Single(); // every edge in one path
        Assert.Equal(4, edges.Count(c => c == 'M'));
        Assert.Contains("<title>ncurses@6.4 /", html, StringComparison.Ordinal);
        var zlib = source.Rows.First(r => r.Name == "zlib" && r.Compiler == "gcc@12.2.0" && r.Version == "1.3.1");
        Assert.Contains($"data-href=\"/main/spec/{zlib.Hash}\"", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zlib", "1.3.1", "trusted", "Trusted")]
    [InlineData("openssl", "3.1.4", "untrusted", "Untrusted")]
    [InlineData("zlib", "1.2.13", "invalid", "Invalid signature")]
    public async Task SignatureBadgeSaysWhatTheSignatureIs(string name, string version, string state, string start)
    {
        var source = FakeCatalogSource.Sample();
        var row = source.Rows.First(r => r.Name == name && r.Version == version);
        var spec = (await source.GetSpecAsync(row.Hash, "https://cache.example/main/", Token))!;
        var html = PageAssert.Render(w => SpecPage.Write(w, Live, "main", spec));

        Assert.Contains($"<p id=\"signature\" class=\"badge badge-{state}\" data-state=\"{state}\">{start}", html,
            StringComparison.Ordinal);
        if (state != "invalid")
        {
            Assert.Contains($"<code class=\"fingerprint\">{spec.Signature.Fingerprint}</code>", html,
                StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task KeysPageLinksEachKeyFileThroughTheMirrorPath()
    {
        var source = FakeCatalogSource.Sample();
        var keys = await source.GetKeysAsync(Token);
        var live = PageAssert.Render(w => KeysPage.Write(w, Live, "main", keys));
        var exported = PageAssert.Render(w => KeysPage.Write(w, PageSettings.Static(2), "main", keys,
            "https://bucket.example/cache"));

        PageAssert.FollowsTheContract(live, "live");
        var fingerprint = keys[0].Fingerprint;
        Assert.Contains($"<tr data-fingerprint=\"{fingerprint}\">", live, StringComparison.Ordinal);
        Assert.Equal([$"/main/v3/layout/_pgp/{fingerprint}.pub"],
            PageAssert.Attributes(live, "<a class=\"key-download\"", "href"));
        Assert.Contains("<td class=\"trusted\">yes</td>", live, StringComparison.Ordinal);
        Assert.Equal([$"https://bucket.example/cache/v3/layout/_pgp/{fingerprint}.pub"],
            PageAssert.Attributes(exported, "<a class=\"key-download\"", "href"));
    }

    [Fact]
    public void LoginPageHasTheTokenFormAndTheMessage()
    {
        var html = PageAssert.Render(w => LoginPage.Write(w, PageSettings.Live(false, "/secret/"),
            LoginPage.NoSuchCache("secret"), "/secret/"));

        PageAssert.FollowsTheContract(html, "live");
        Assert.Contains("<form id=\"login\" method=\"post\" action=\"/_depot/login\">", html, StringComparison.Ordinal);
        Assert.Contains("<label for=\"token\">", html, StringComparison.Ordinal);
        Assert.Contains("<input id=\"token\" type=\"password\" name=\"token\"", html, StringComparison.Ordinal);
        Assert.Contains("<input type=\"hidden\" name=\"next\" value=\"/secret/\">", html, StringComparison.Ordinal);
        Assert.Contains("<p id=\"login-message\">No public cache named secret here; if it is private, sign in with a "
            + "token.</p>", html, StringComparison.Ordinal);
    }

    private static async Task<string> RenderCacheAsync(FakeCatalogSource source, CatalogQuery query,
        PageSettings settings, int page = 1)
    {
        var model = new CachePageModel(await source.GetSummaryAsync(Token), query,
            await source.SearchAsync(query with { Limit = CachePage.ResultsPerPage }, Token),
            await source.GetPackagesAsync((page - 1) * CachePage.PackagesPerPage, CachePage.PackagesPerPage, Token),
            page, await source.GetActivityAsync(20, Token));
        return PageAssert.Render(w => CachePage.Write(w, settings, model));
    }

    private static string Section(string html, string id)
    {
        var start = html.IndexOf($"<section id=\"{id}\"", StringComparison.Ordinal);
        return html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
    }
}
