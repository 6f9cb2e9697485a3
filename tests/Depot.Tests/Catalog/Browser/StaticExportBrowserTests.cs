namespace Depot.Tests.Catalog.Browser;

/// <summary>
/// The static export (<c>depot catalog</c>) served by a plain static file server passes the page checks the live
/// catalog passes: search in the browser from <c>search.json</c>, links between specs, signature badges, copying.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class StaticExportBrowserTests(ChromiumBrowser chromium, StaticExportSites sites)
    : IClassFixture<StaticExportSites>
{
    [Fact]
    public async Task Search_finds_a_package_by_prefix_and_by_hash_as_you_type()
    {
        await using var tab = await chromium.OpenAsync();
        await CatalogPageChecks.SearchFindsAsYouTypeAsync(tab, sites.CacheUrl("trusted"), sites.Signed, "static");
    }

    [Fact]
    public async Task Spec_page_links_its_dependencies_and_dependents()
    {
        await using var tab = await chromium.OpenAsync();
        await CatalogPageChecks.DependenciesNavigateAsync(tab, sites.CacheUrl("trusted"), sites.Signed);
    }

    [Theory]
    [InlineData("trusted")]
    [InlineData("untrusted")]
    [InlineData("unsigned")]
    public async Task Signature_badge_says_what_the_exporting_home_trusts(string cache)
    {
        await using var tab = await chromium.OpenAsync();
        var specs = cache == "unsigned" ? sites.Unsigned : sites.Signed;
        await CatalogPageChecks.SignatureBadgeSaysAsync(tab, sites.CacheUrl(cache), specs.Hash("libgreet"), cache);
    }

    [Fact]
    public async Task Copy_button_puts_the_spack_commands_on_the_clipboard()
    {
        await using var tab = await chromium.OpenAsync();
        await CatalogPageChecks.CopyButtonCopiesInstallCommandAsync(tab, sites.CacheUrl("trusted"),
            sites.Signed.Hash("greet"));
        var commands = await tab.Page.Locator("pre#install-spack").TextContentAsync();
        Assert.Contains(StaticExportSites.MirrorUrlBase + "trusted", commands);
    }

    [Fact]
    public async Task Site_root_lists_the_exported_cache_and_links_to_it()
    {
        await using var tab = await chromium.OpenAsync();
        var page = tab.Page;
        await page.GotoAsync(sites.SiteUrl("trusted").ToString());
        await page.Locator("table#caches tr[data-cache=\"trusted\"] a.cache-link").ClickAsync();
        await page.Locator("form#search-form").WaitForAsync();
        Assert.Matches("/trusted-site/trusted/(index\\.html)?$", page.Url);
        await page.Locator("section#packages a.package-link", new() { HasTextString = "libgreet" }).ClickAsync();
        await page.Locator("table#versions a.spec-link").First.ClickAsync();
        await page.Locator("code#spec-hash").WaitForAsync();
        Assert.Equal(sites.Signed.Hash("libgreet"), (await page.Locator("code#spec-hash").InnerTextAsync()).Trim());
        tab.AssertNoProblems();
    }
}
