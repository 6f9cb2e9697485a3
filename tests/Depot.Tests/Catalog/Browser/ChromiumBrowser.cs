using Microsoft.Playwright;

namespace Depot.Tests.Catalog.Browser;

/// <summary>
/// The system's Chromium (Debian's <c>chromium</c> package, which <c>./test.sh</c> installs) driven by Playwright,
/// launched once for the whole browser collection. Playwright's own browser download is never used (it needs the
/// network); its node driver ships in the NuGet package and is copied beside the test binary (<c>.playwright/</c>).
/// Each test opens its own <see cref="BrowserTab"/> (a fresh context: no cookies, storage or clipboard shared).
/// </summary>
public sealed class ChromiumBrowser : IAsyncLifetime
{
    /// <summary>Where Debian installs the browser.</summary>
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Viewport of every tab (and so of the screenshots).</summary>
    public static readonly ViewportSize Viewport = new() { Width = 1280, Height = 800 };

    private IPlaywright? playwright;
    private IBrowser? browser;

    public IBrowser Browser => browser ?? throw new InvalidOperationException("the browser is not started");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} not found: the catalog's browser tests drive "
                + "Debian's chromium (./test.sh installs it: apt-get install --no-install-recommends chromium)");
        }

        var driver = Path.Combine(AppContext.BaseDirectory, ".playwright");
        if (!Directory.Exists(driver))
        {
            throw new InvalidOperationException($"{driver} not found: the Microsoft.Playwright package copies its "
                + "node driver there at build time; rebuild the test project");
        }

        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start. The rest keep the
            // browser from reaching out (updates, sync, first-run pages) on a machine without network.
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
    }

    /// <summary>A new tab in a context of its own (clipboard readable and writable, light colours unless asked).
    /// </summary>
    public async Task<BrowserTab> OpenAsync(ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = Viewport,
            ColorScheme = colorScheme,
            Permissions = ["clipboard-read", "clipboard-write"],
        });
        context.SetDefaultTimeout(10_000);
        var page = await context.NewPageAsync();
        return new BrowserTab(context, page);
    }

    public async ValueTask DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.CloseAsync();
        }

        playwright?.Dispose();
    }
}

/// <summary>One page in its own browser context, and the script errors and failed requests it has seen.</summary>
public sealed class BrowserTab : IAsyncDisposable
{
    private readonly List<string> problems = [];

    public BrowserTab(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.PageError += (_, error) => Record("script error: " + error);
        page.Console += (_, message) =>
        {
            // Includes a failed request for /favicon.ico, which the browser makes on its own unless the page names
            // an icon (the server would answer it as a cache: a 401 sign-in page).
            if (message.Type == "error")
            {
                Record($"console error: {message.Text} ({message.Location})");
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Uncaught script errors and console errors so far (a page that loads a missing asset logs one).
    /// </summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (problems)
            {
                return problems.ToList();
            }
        }
    }

    /// <summary>Fails, naming every problem, when the page logged any.</summary>
    public void AssertNoProblems()
    {
        var seen = Problems;
        Assert.True(seen.Count == 0, $"{Page.Url}: the page logged {seen.Count} problem(s):\n"
            + string.Join("\n", seen));
    }

    private void Record(string problem)
    {
        lock (problems)
        {
            problems.Add(problem);
        }
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();
}

/// <summary>The browser collection: every class in it shares one Chromium and runs one after the other.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserTests : ICollectionFixture<ChromiumBrowser>, ICollectionFixture<CatalogServer>
{
    public const string Name = "Catalog in Chromium";
}
