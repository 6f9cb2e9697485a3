using System.Globalization;
using Microsoft.Playwright;

namespace Depot.Tests.Catalog.Browser;

/// <summary>The catalog <c>depot serve</c> answers, in Chromium: search, navigation, signatures, copying, the private
/// cache's login, the keyboard and dark mode.</summary>
[Collection(BrowserTests.Name)]
public sealed class CatalogServerBrowserTests(ChromiumBrowser chromium, CatalogServer server)
{
    [Fact]
    public async Task Search_finds_a_package_by_prefix_and_by_hash_as_you_type()
    {
        await using var tab = await chromium.OpenAsync();
        await CatalogPageChecks.SearchFindsAsYouTypeAsync(tab, server.CacheUrl("trusted"), server.Signed, "live");
    }

    [Fact]
    public async Task Spec_page_links_its_dependencies_and_dependents()
    {
        await using var tab = await chromium.OpenAsync();
        await CatalogPageChecks.DependenciesNavigateAsync(tab, server.CacheUrl("trusted"), server.Signed);
    }

    [Theory]
    [InlineData("trusted")]
    [InlineData("untrusted")]
    [InlineData("unsigned")]
    public async Task Signature_badge_says_what_the_server_trusts(string cache)
    {
        await using var tab = await chromium.OpenAsync();
        var specs = cache == "unsigned" ? server.Unsigned : server.Signed;
        await CatalogPageChecks.SignatureBadgeSaysAsync(tab, server.CacheUrl(cache), specs.Hash("libgreet"), cache);
    }

    [Fact]
    public async Task Copy_button_puts_the_spack_commands_on_the_clipboard()
    {
        await using var tab = await chromium.OpenAsync();
        await CatalogPageChecks.CopyButtonCopiesInstallCommandAsync(tab, server.CacheUrl("trusted"),
            server.Signed.Hash("greet"));
    }

    [Fact]
    public async Task Private_cache_asks_for_a_token_and_shows_nothing_of_it_until_signed_in()
    {
        await using var tab = await chromium.OpenAsync();
        var page = tab.Page;

        var caches = await page.GotoAsync(server.BaseUrl.ToString());
        Assert.Equal(200, caches!.Status);
        Assert.Equal(1, await page.Locator("table#caches tr[data-cache=\"trusted\"]").CountAsync());
        Assert.Equal(0, await page.Locator("table#caches tr[data-cache=\"private\"]").CountAsync());
        Assert.DoesNotContain("private", await page.Locator("table#caches").InnerTextAsync());

        var asked = await page.GotoAsync(server.CacheUrl("private").ToString());
        Assert.Equal(401, asked!.Status);
        await page.Locator("form#login input#token[type=password]").WaitForAsync();
        var message = await page.Locator("p#login-message").InnerTextAsync();
        Assert.Contains("No public cache named private", message);
        var text = await page.ContentAsync();
        foreach (var name in server.Private.Names)
        {
            Assert.DoesNotContain(name, text);
        }

        // An unknown cache answers the same way: the answer does not tell that "private" exists.
        var unknown = await page.GotoAsync(server.CacheUrl("no-such-cache").ToString());
        Assert.Equal(401, unknown!.Status);
        Assert.Equal(message.Replace("named private", "named no-such-cache", StringComparison.Ordinal),
            await page.Locator("p#login-message").InnerTextAsync());

        await page.GotoAsync(server.CacheUrl("private").ToString());
        await page.Locator("input#token").FillAsync(server.PrivateToken);
        await page.Locator("form#login [type=submit]").ClickAsync();
        await page.Locator("form#search-form").WaitForAsync();
        Assert.Equal(server.CacheUrl("private").ToString(), page.Url);
        var libgreet = server.Private.Hash("libgreet");
        Assert.Contains("libgreet", await page.Locator("main").InnerTextAsync());
        Assert.DoesNotContain(server.PrivateToken, await page.ContentAsync());
        await page.GotoAsync(CatalogPageChecks.SpecUrl(server.CacheUrl("private"), libgreet));
        Assert.Equal(libgreet, (await page.Locator("code#spec-hash").InnerTextAsync()).Trim());
        Assert.DoesNotContain(server.PrivateToken, await page.ContentAsync());

        await page.GotoAsync(server.BaseUrl.ToString());
        var row = page.Locator("table#caches tr[data-cache=\"private\"]");
        Assert.Equal("private", (await row.Locator(".visibility").InnerTextAsync()).Trim());
        Assert.Equal("private", (await row.Locator("a.cache-link").InnerTextAsync()).Trim());
    }

    [Fact]
    public async Task Tab_from_the_top_reaches_the_skip_link_then_the_search_box()
    {
        await using var tab = await chromium.OpenAsync();
        var page = tab.Page;
        await page.GotoAsync(server.CacheUrl("trusted").ToString());

        await page.Keyboard.PressAsync("Tab");
        var skip = page.Locator("a[href=\"#main\"]");
        Assert.True(await skip.EvaluateAsync<bool>("a => a === document.activeElement"),
            "the first Tab does not focus the skip link; it focuses " + await FocusedAsync(page));
        Assert.Contains("Skip to content", await skip.InnerTextAsync());
        var box = await skip.BoundingBoxAsync();
        Assert.True(box is { Width: > 1, Height: > 1 } && box.X >= 0 && box.Y >= 0,
            "the focused skip link is not visible on screen");

        var focused = "";
        for (var presses = 0; presses < 15 && focused != "input#search"; presses++)
        {
            await page.Keyboard.PressAsync("Tab");
            focused = await FocusedAsync(page);
        }

        Assert.Equal("input#search", focused);
        await page.Keyboard.TypeAsync("libgr");
        await CatalogPageChecks.WaitForResultsAsync(page, [server.Signed.Hash("libgreet")]);
    }

    [Fact]
    public async Task Dark_preference_darkens_the_page()
    {
        var light = await BackgroundAsync(ColorScheme.Light);
        var dark = await BackgroundAsync(ColorScheme.Dark);
        Assert.NotEqual(light, dark);
        Assert.True(Luminance(dark) < 0.3 && Luminance(light) > 0.6, $"light {light}, dark {dark}");
    }

    private async Task<string> BackgroundAsync(ColorScheme scheme)
    {
        await using var tab = await chromium.OpenAsync(scheme);
        await tab.Page.GotoAsync(server.CacheUrl("trusted").ToString());
        return await tab.Page.EvaluateAsync<string>("""
            () => {
              for (const element of [document.body, document.documentElement]) {
                const colour = getComputedStyle(element).backgroundColor;
                if (colour && colour !== 'transparent' && colour !== 'rgba(0, 0, 0, 0)') return colour;
              }
              return 'rgb(255, 255, 255)';
            }
            """);
    }

    /// <summary>Relative luminance (0 black … 1 white) of a computed <c>rgb(r, g, b)</c> colour.</summary>
    private static double Luminance(string rgb)
    {
        var parts = rgb[(rgb.IndexOf('(', StringComparison.Ordinal) + 1)..rgb.IndexOf(')', StringComparison.Ordinal)]
            .Split(',').Take(3).Select(p => double.Parse(p.Trim(), CultureInfo.InvariantCulture) / 255).ToArray();
        return (0.2126 * parts[0]) + (0.7152 * parts[1]) + (0.0722 * parts[2]);
    }

    private static Task<string> FocusedAsync(IPage page) => page.EvaluateAsync<string>(
        "() => { const e = document.activeElement; return e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') : '';"
        + " }");
}
