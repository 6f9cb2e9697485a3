using Depot.Catalog;
using Depot.Catalog.Pages;

namespace Depot.Tests.Catalog.Pages;

/// <summary>
/// Names, versions, variants and cache names come from whoever pushed to a cache: the pages must show them as text,
/// never as markup, in element content and in attributes.
/// </summary>
public sealed class PageEscapingTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly PageSettings Live = PageSettings.Live(false, "/x/?q=<b>");

    [Fact]
    public async Task HostileNameVersionAndVariantsAreTextOnEveryPageThatShowsThem()
    {
        var source = FakeCatalogSource.Sample();
        var hostile = source.Rows.Single(r => r.Name.StartsWith("evil", StringComparison.Ordinal));
        var spec = (await source.GetSpecAsync(hostile.Hash, "https://cache.example/main/", Token))!;
        var query = new CatalogQuery("evil");
        var pages = new[]
        {
            PageAssert.Render(w => SpecPage.Write(w, Live, "main", spec)),
            PageAssert.Render(w => PackagePage.Write(w, Live, "main",
                source.GetPackageAsync(hostile.Name, Token).Result!)),
            PageAssert.Render(w => CachePage.Write(w, Live, new CachePageModel(
                source.GetSummaryAsync(Token).Result, query, source.SearchAsync(query, Token).Result,
                source.GetPackagesAsync(0, 100, Token).Result, 1, source.GetActivityAsync(20, Token).Result))),
        };

        foreach (var html in pages)
        {
            PageAssert.FollowsTheContract(html, "live");
            Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<b>", html, StringComparison.Ordinal);
            Assert.DoesNotContain("\"onmouseover", html, StringComparison.Ordinal);
            Assert.Contains("evil&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        }

        Assert.Contains("1.0&quot;onmouseover=&quot;x", pages[0], StringComparison.Ordinal);
        Assert.Contains("&#x2B;&lt;b&gt;bold&lt;/b&gt; ~&#x27;quote&#x27;", pages[0], StringComparison.Ordinal);

        // The package link's path segment is percent-encoded, then the attribute escaped.
        Assert.Contains("href=\"/main/package/evil%3Cscript%3Ealert%281%29%3C%2Fscript%3E\"", pages[2],
            StringComparison.Ordinal);
    }

    [Fact]
    public void HostileCacheNameAndRequestPathAreEscaped()
    {
        var summary = new CacheSummary("a\"b<i>", true, 1, 1, null, null, [3]);
        var html = PageAssert.Render(w => CachesPage.Write(w, Live, [summary]));
        var login = PageAssert.Render(w => LoginPage.Write(w, Live, LoginPage.NoSuchCache("<img src=x>"),
            "/\"><script>x</script>"));

        Assert.Contains("<tr data-cache=\"a&quot;b&lt;i&gt;\">", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/a%22b%3Ci%3E/\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<i>", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/_depot/login?next=%2Fx%2F%3Fq%3D%3Cb%3E\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", login, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", login, StringComparison.Ordinal);
        Assert.Contains("value=\"/&quot;&gt;&lt;script&gt;x&lt;/script&gt;\"", login, StringComparison.Ordinal);
    }
}
