using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Depot.Tests.Catalog.Browser;

/// <summary>axe-core (Deque.AxeCore.Playwright) finds no serious or critical problem on any kind of catalog page.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class CatalogAccessibilityTests(ChromiumBrowser chromium, CatalogServer server)
{
    [Theory]
    [InlineData("caches", false)]
    [InlineData("cache", false)]
    [InlineData("cache", true)]
    [InlineData("search results", false)]
    [InlineData("package", false)]
    [InlineData("spec", false)]
    [InlineData("spec", true)]
    [InlineData("keys", false)]
    [InlineData("login", false)]
    public async Task Page_has_no_serious_or_critical_accessibility_violation(string kind, bool dark)
    {
        await using var tab = await chromium.OpenAsync(dark ? ColorScheme.Dark : ColorScheme.Light);
        var cache = server.CacheUrl("trusted");
        var url = kind switch
        {
            "caches" => server.BaseUrl,
            "cache" => cache,
            "search results" => new Uri(cache, "?q=greet"),
            "package" => new Uri(cache, "package/libgreet"),
            "spec" => new Uri(CatalogPageChecks.SpecUrl(cache, server.Signed.Hash("greet"))),
            "keys" => new Uri(cache, "keys"),
            "login" => new Uri(server.BaseUrl, "_depot/login"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var response = await tab.Page.GotoAsync(url.ToString());
        Assert.True(response!.Ok, $"{url}: HTTP {response.Status}");
        if (kind == "search results")
        {
            await tab.Page.Locator("#results li.result").First.WaitForAsync();
        }

        var result = await tab.Page.RunAxe();
        var blocking = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(blocking.Count == 0, $"{url} ({(dark ? "dark" : "light")}): " + Describe(blocking));
    }

    private static string Describe(IEnumerable<AxeResultItem> violations) => string.Join("\n", violations.Select(v =>
        $"{v.Impact} {v.Id}: {v.Help} ({v.HelpUrl})\n" + string.Join("\n", v.Nodes.Select(n =>
            $"    {n.Target}: {n.Html}\n      "
            + string.Join("; ", n.Any.Concat(n.All).Concat(n.None).Select(check => check.Message))))));
}
