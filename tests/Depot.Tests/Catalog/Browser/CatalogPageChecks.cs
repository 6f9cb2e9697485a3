using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Depot.Tests.Catalog.Browser;

/// <summary>
/// The page checks both catalogs must pass: the live one <c>depot serve</c> answers and the static export served from
/// a plain folder. Each takes the cache page's URL, so the same check runs against either.
/// </summary>
internal static class CatalogPageChecks
{
    /// <summary>A spec's page below a cache page (a folder URL: the server answers it, and so does an export).
    /// </summary>
    public static string SpecUrl(Uri cacheUrl, string hash) => new Uri(cacheUrl, $"spec/{hash}/").ToString();

    /// <summary>
    /// Typing into the search box lists matches without reloading the page: a name prefix, then a hash prefix. The
    /// page says which search it runs (<c>data-mode</c>: <c>live</c> asks the server, <c>static</c> reads the export's
    /// <c>search.json</c>).
    /// </summary>
    public static async Task SearchFindsAsYouTypeAsync(BrowserTab tab, Uri cacheUrl, FixtureSpecs specs, string mode)
    {
        var page = tab.Page;
        await page.GotoAsync(cacheUrl.ToString());
        Assert.Equal(mode, await page.Locator("body").GetAttributeAsync("data-mode"));
        await page.EvaluateAsync("() => { window.depotTestMarker = 'same page'; }"); // gone if the page reloads
        var search = page.Locator("input#search");

        var prefixed = specs.Names.Where(n => n.StartsWith("greet", StringComparison.Ordinal))
            .Select(specs.Hash).ToList();
        Assert.True(prefixed.Count >= 2, "the fixture holds greet and greet-data");
        await search.PressSequentiallyAsync("greet", new() { Delay = 40 });
        await WaitForResultsAsync(page, prefixed); // not libgreet: a name prefix, not a substring

        await search.FillAsync("");
        await search.PressSequentiallyAsync("libgr", new() { Delay = 40 });
        var libgreet = specs.Hash("libgreet");
        await WaitForResultsAsync(page, [libgreet]);
        var link = page.Locator($"#results li.result[data-hash=\"{libgreet}\"] a.spec-link");
        Assert.Equal($"libgreet@{specs.Version("libgreet")}", (await link.InnerTextAsync()).Trim());
        Assert.Contains("/" + libgreet[..7], await page.Locator("#results li.result").InnerTextAsync());

        var greet = specs.Hash("greet");
        await search.FillAsync("");
        await search.PressSequentiallyAsync("/" + greet[..6], new() { Delay = 40 });
        await WaitForResultsAsync(page, [greet]);
        Assert.StartsWith("1 spec", (await page.Locator("p#result-count").InnerTextAsync()).Trim());
        Assert.Equal("same page", await page.EvaluateAsync<string?>("() => window.depotTestMarker ?? null"));

        // The result links to the spec's page.
        await page.Locator($"#results li.result[data-hash=\"{greet}\"] a.spec-link").ClickAsync();
        await WaitForSpecPageAsync(page, greet);
        Assert.Equal(greet, (await page.Locator("code#spec-hash").InnerTextAsync()).Trim());
        tab.AssertNoProblems();
    }

    /// <summary>
    /// A spec page lists its dependencies, linked when the cache holds them; a link opens that spec's page, which
    /// lists the first spec among its dependents, linked back.
    /// </summary>
    public static async Task DependenciesNavigateAsync(BrowserTab tab, Uri cacheUrl, FixtureSpecs specs)
    {
        var page = tab.Page;
        var greet = specs.Hash("greet");
        var libgreet = specs.Hash("libgreet");
        await page.GotoAsync(SpecUrl(cacheUrl, greet));
        Assert.Equal(greet, (await page.Locator("code#spec-hash").InnerTextAsync()).Trim());
        Assert.Contains("greet", await page.Locator("main h1").InnerTextAsync());
        Assert.Equal(1, await page.Locator("main h1").CountAsync());

        await page.Locator($"section#dependencies a.spec-link[href*=\"{libgreet}\"]").ClickAsync();
        await WaitForSpecPageAsync(page, libgreet);
        Assert.Equal(libgreet, (await page.Locator("code#spec-hash").InnerTextAsync()).Trim());
        Assert.Contains("libgreet", await page.Locator("main h1").InnerTextAsync());

        // Dependencies the cache does not hold (build tools, externals) are named, without a link.
        var unlinked = await page.Locator("section#dependencies li").EvaluateAllAsync<string[]>(
            "items => items.filter(li => !li.querySelector('a')).map(li => li.textContent)");
        foreach (var name in specs.DependenciesNotInCache("libgreet"))
        {
            var word = new Regex($"(?<![\\w-]){Regex.Escape(name)}(?![\\w-])");
            Assert.True(unlinked.Any(word.IsMatch),
                $"dependency {name} (not in the cache) is not listed unlinked: [{string.Join(" | ", unlinked)}]");
        }

        await page.Locator($"section#dependents a.spec-link[href*=\"{greet}\"]").ClickAsync();
        await WaitForSpecPageAsync(page, greet);
        Assert.Equal(greet, (await page.Locator("code#spec-hash").InnerTextAsync()).Trim());
    }

    /// <summary>The spec page's signature badge says <paramref name="state"/>, with the key's fingerprint when signed.
    /// </summary>
    public static async Task SignatureBadgeSaysAsync(BrowserTab tab, Uri cacheUrl, string hash, string state)
    {
        var page = tab.Page;
        await page.GotoAsync(SpecUrl(cacheUrl, hash));
        var badge = page.Locator("#signature");
        Assert.Equal(state, await badge.GetAttributeAsync("data-state"));
        var text = (await badge.InnerTextAsync()).Trim();
        Assert.StartsWith(char.ToUpperInvariant(state[0]) + state[1..], text, StringComparison.Ordinal);
        var fingerprint = badge.Locator("code.fingerprint");
        if (state == "unsigned")
        {
            Assert.Equal(0, await fingerprint.CountAsync());
            return;
        }

        var shown = (await fingerprint.InnerTextAsync()).Replace(" ", "", StringComparison.Ordinal);
        Assert.Equal(CatalogServer.FixtureFingerprint, shown.ToUpperInvariant());
    }

    /// <summary>The copy button beside the Spack commands puts exactly their text on the clipboard, says so, and the
    /// commands install this very spec without any token.</summary>
    public static async Task CopyButtonCopiesInstallCommandAsync(BrowserTab tab, Uri cacheUrl, string hash)
    {
        var page = tab.Page;
        await page.GotoAsync(SpecUrl(cacheUrl, hash));
        var shown = await page.Locator("pre#install-spack").TextContentAsync() ?? "";
        Assert.Contains("spack install", shown);
        Assert.Contains("/" + hash, shown);
        Assert.DoesNotContain(Depot.Serving.AccessToken.Prefix, shown); // no token in a command

        await page.EvaluateAsync("() => navigator.clipboard.writeText('before the click')");
        var button = page.Locator("button.copy[data-copy=\"install-spack\"]");
        Assert.StartsWith("Copy", await button.GetAttributeAsync("aria-label") ?? "");
        await button.ClickAsync();
        var copied = "";
        for (var waited = 0; waited < 5000; waited += 50)
        {
            copied = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
            if (copied != "before the click")
            {
                break;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(shown, copied);
        await page.Locator("[aria-live]", new() { HasTextString = "Copied" }).First
            .WaitForAsync(new() { State = WaitForSelectorState.Attached });
        tab.AssertNoProblems();
    }

    /// <summary>Waits until <c>#results</c> is settled (not busy) and lists exactly <paramref name="hashes"/>.
    /// </summary>
    public static async Task WaitForResultsAsync(IPage page, IReadOnlyCollection<string> hashes)
    {
        var expected = hashes.Order(StringComparer.Ordinal).ToArray();
        const string Listed = """
            () => {
              const results = document.querySelector('#results');
              if (!results) return { busy: false, hashes: null };
              return {
                busy: results.getAttribute('aria-busy') === 'true',
                hashes: [...results.querySelectorAll('li.result')].map(li => li.dataset.hash).sort(),
              };
            }
            """;
        try
        {
            await page.WaitForFunctionAsync(
                "expected => { const r = (" + Listed + ")(); return !r.busy && r.hashes !== null"
                + " && JSON.stringify(r.hashes) === JSON.stringify(expected); }",
                expected, new() { Timeout = 5000 });
        }
        catch (TimeoutException)
        {
            var now = await page.EvaluateAsync<System.Text.Json.JsonElement>(Listed);
            Assert.Fail($"#results never listed [{string.Join(", ", expected)}]; it holds {now}"
                + $" (search box: '{await page.Locator("input#search").InputValueAsync()}')");
        }
    }

    /// <summary>Waits until the page shown is <paramref name="hash"/>'s spec page, at its URL.</summary>
    private static async Task WaitForSpecPageAsync(IPage page, string hash)
    {
        try
        {
            await page.WaitForFunctionAsync(
                "hash => document.querySelector('code#spec-hash')?.textContent.trim() === hash", hash);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the spec page of {hash} did not open; the browser shows {page.Url}");
        }

        Assert.Matches($"/spec/{hash}/?(index\\.html)?$", page.Url);
    }
}
