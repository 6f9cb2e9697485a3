using System.Buffers.Binary;

namespace Depot.Tests.Catalog.Browser;

/// <summary>
/// Screenshots of the catalog for the README (1280×800, light): the cache page, a search, a spec page. They go to
/// <c>DEPOT_SCREENSHOTS</c> when set (<c>docs/update-screenshots.sh</c> sets it to <c>docs/</c>), else to a scratch
/// folder; either way each must be a PNG of the viewport's size.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class CatalogScreenshotTests(ChromiumBrowser chromium, CatalogServer server)
{
    [Fact]
    public async Task Cache_search_and_spec_pages_are_captured()
    {
        using var scratch = new TempDir();
        var folder = Environment.GetEnvironmentVariable("DEPOT_SCREENSHOTS") is { Length: > 0 } set
            ? Path.GetFullPath(set) : scratch.Path;
        Directory.CreateDirectory(folder);
        await using var tab = await chromium.OpenAsync();
        var page = tab.Page;
        var cache = server.CacheUrl("trusted");

        await page.GotoAsync(cache.ToString());
        await ShootAsync(page, Path.Combine(folder, "catalog-cache.png"));

        await page.Locator("input#search").PressSequentiallyAsync("greet", new() { Delay = 40 });
        await CatalogPageChecks.WaitForResultsAsync(page, [server.Signed.Hash("greet"),
            server.Signed.Hash("greet-data")]);
        await ShootAsync(page, Path.Combine(folder, "catalog-search.png"));

        await page.GotoAsync(CatalogPageChecks.SpecUrl(cache, server.Signed.Hash("greet")));
        await ShootAsync(page, Path.Combine(folder, "catalog-spec.png"));
    }

    private static async Task ShootAsync(Microsoft.Playwright.IPage page, string file)
    {
        await page.ScreenshotAsync(new()
        {
            Path = file,
            Animations = Microsoft.Playwright.ScreenshotAnimations.Disabled,
        });
        var header = new byte[24];
        await using (var png = File.OpenRead(file))
        {
            await png.ReadExactlyAsync(header, TestContext.Current.CancellationToken);
        }

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a }, header[..8]);
        Assert.Equal(ChromiumBrowser.Viewport.Width, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(16, 4)));
        Assert.Equal(ChromiumBrowser.Viewport.Height, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(20, 4)));
    }
}
