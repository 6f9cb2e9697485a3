using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace Depot.Bench;

/// <summary>
/// The web catalog's measurements against a running <c>depot serve</c> (bench/catalog.sh starts it):
/// <c>catalog-search BASE CACHE COUNT [--seed S]</c> sends COUNT varied searches to the JSON API and reads the
/// server's own time from <c>Server-Timing: search;dur=</c>; <c>catalog-page BASE CACHE LOADS</c> loads the cache page
/// in Chromium (Debian's, as the tests use it) LOADS times and times it from the browser's navigation start to the
/// load event and to the first result in the page, then times typing a search until the results are replaced.
/// Each prints <c>KEY median p95 max count</c> lines (milliseconds).
/// </summary>
internal static class CatalogBench
{
    public static async Task<int> SearchAsync(string[] args)
    {
        var (baseUrl, cache, count, seed) = Arguments(args);
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var api = $"api/v1/caches/{Uri.EscapeDataString(cache)}/";
        var queries = await QueriesAsync(http, api, count, seed);

        // Untimed warm-up: the server builds its search state from the index on the first search, and the JIT runs.
        foreach (var query in queries.Take(20))
        {
            await SearchOnceAsync(http, api, query);
        }

        var server = new List<double>();
        var client = new List<double>();
        var found = 0;
        foreach (var query in queries)
        {
            var (serverMs, clientMs, total) = await SearchOnceAsync(http, api, query);
            server.Add(serverMs);
            client.Add(clientMs);
            found += total > 0 ? 1 : 0;
        }

        Print("search-server", server);
        Print("search-client", client);
        Console.Out.WriteLine($"search-with-results {found} {queries.Count}");
        return 0;
    }

    public static async Task<int> PageAsync(string[] args)
    {
        var (baseUrl, cache, loads, seed) = Arguments(args);
        var url = new Uri(new Uri(baseUrl), Uri.EscapeDataString(cache) + "/").ToString();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        // The first result's time, as the parser inserts it (server-rendered results come with the HTML).
        await context.AddInitScriptAsync("""
            (() => {
              const mark = () => {
                if (!window.depotFirstResult && document.querySelector('#results li.result')) {
                  window.depotFirstResult = performance.now();
                }
              };
              new MutationObserver(mark).observe(document, { childList: true, subtree: true });
            })();
            """);
        var load = new List<double>();
        var firstResult = new List<double>();
        var typing = new List<double>();
        var names = await NamesAsync(baseUrl, cache);
        var rng = new Rng((ulong)seed);
        for (var i = 0; i <= loads; i++) // load 0 is an untimed warm-up (assets cached, server JIT)
        {
            var page = await context.NewPageAsync();
            var response = await page.GotoAsync(url, new() { WaitUntil = WaitUntilState.Load });
            if (response is not { Ok: true })
            {
                throw new IOException($"{url}: HTTP {response?.Status}");
            }

            var times = await page.EvaluateAsync<JsonElement>("""
                () => ({ load: performance.getEntriesByType('navigation')[0].loadEventEnd,
                         first: window.depotFirstResult ?? -1 })
                """);
            var typed = await page.EvaluateAsync<double>("""
                text => new Promise(resolve => {
                  const results = document.querySelector('#results');
                  const input = document.querySelector('#search');
                  const start = performance.now();
                  new MutationObserver((_, observer) => {
                    if (results.getAttribute('aria-busy') !== 'true') {
                      observer.disconnect();
                      resolve(performance.now() - start);
                    }
                  }).observe(results, { attributes: true, childList: true });
                  input.value = text;
                  input.dispatchEvent(new Event('input', { bubbles: true }));
                })
                """, Prefix(rng.Pick(names)));
            if (i > 0)
            {
                load.Add(times.GetProperty("load").GetDouble());
                firstResult.Add(times.GetProperty("first").GetDouble());
                typing.Add(typed);
            }

            await page.CloseAsync();
        }

        if (firstResult.Any(t => t < 0))
        {
            throw new IOException($"{url}: the page showed no #results li.result");
        }

        Print("page-load", load);
        Print("page-first-result", firstResult);
        Print("page-typing", typing);
        return 0;
    }

    private static (string BaseUrl, string Cache, int Count, long Seed) Arguments(string[] args)
    {
        var seed = 1L;
        var positional = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--seed" && i + 1 < args.Length)
            {
                seed = long.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else
            {
                positional.Add(args[i]);
            }
        }

        if (positional.Count != 3 || !int.TryParse(positional[2], CultureInfo.InvariantCulture, out var count))
        {
            throw new ArgumentException("expected <base-url> <cache> <count> [--seed S]");
        }

        return (positional[0].TrimEnd('/') + "/", positional[1], count, seed);
    }

    private static async Task<(double ServerMs, double ClientMs, int Total)> SearchOnceAsync(HttpClient http,
        string api, string query)
    {
        var watch = Stopwatch.StartNew();
        using var response = await http.GetAsync(api + "search?" + query);
        var body = await response.Content.ReadAsStringAsync();
        watch.Stop();
        if (!response.IsSuccessStatusCode)
        {
            throw new IOException($"search?{query}: HTTP {(int)response.StatusCode}: {body}");
        }

        var timing = response.Headers.TryGetValues("Server-Timing", out var values) ? string.Join(",", values) : "";
        var dur = timing.Split(',').Select(t => t.Trim()).Where(t => t.StartsWith("search", StringComparison.Ordinal))
            .SelectMany(t => t.Split(';')).FirstOrDefault(p => p.Trim().StartsWith("dur=", StringComparison.Ordinal))
            ?? throw new IOException($"search?{query}: no 'Server-Timing: search;dur=' header ('{timing}')");
        using var json = JsonDocument.Parse(body);
        return (double.Parse(dur.Trim()[4..], CultureInfo.InvariantCulture), watch.Elapsed.TotalMilliseconds,
            json.RootElement.GetProperty("total").GetInt32());
    }

    /// <summary>
    /// Searches as people type them, drawn from what the cache holds: name prefixes of every length, whole names,
    /// <c>name@version</c> prefixes, hash prefixes, variants, a name with a variant, filters, and the empty search.
    /// </summary>
    private static async Task<List<string>> QueriesAsync(HttpClient http, string api, int count, long seed)
    {
        using var listed = JsonDocument.Parse(await http.GetStringAsync(api + "search?limit=500"));
        var rows = listed.RootElement.GetProperty("specs").EnumerateArray().Select(s => (
            Name: s.GetProperty("name").GetString()!, Version: s.GetProperty("version").GetString()!,
            Hash: s.GetProperty("hash").GetString()!, Arch: s.GetProperty("arch").GetString()!,
            Variants: (s.GetProperty("variants").GetString() ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            .ToList();
        var facets = listed.RootElement.GetProperty("facets");
        var compilers = facets.GetProperty("compiler").EnumerateArray().Select(f => f.GetProperty("value").GetString()!)
            .ToList();
        var rng = new Rng((ulong)seed);
        var queries = new List<string>();
        while (queries.Count < count)
        {
            var row = rng.Pick(rows);
            var variant = row.Variants.Length > 0 ? rng.Pick(row.Variants) : "build_system=generic";
            var text = rng.Next(9) switch
            {
                0 => row.Name[..1],
                1 => row.Name[..Math.Min(row.Name.Length, 2 + rng.Next(3))],
                2 => row.Name,
                3 => $"{row.Name}@{row.Version[..Math.Max(1, row.Version.Length / 2)]}",
                4 => "/" + row.Hash[..(3 + rng.Next(5))],
                5 => variant,
                6 => $"{row.Name[..Math.Min(row.Name.Length, 3)]} {variant}",
                7 => "",
                _ => row.Name[..Math.Min(row.Name.Length, 2)],
            };
            var query = "q=" + Uri.EscapeDataString(text) + "&limit=50";
            if (rng.Next(8) == 0)
            {
                query += "&arch=" + Uri.EscapeDataString(row.Arch);
            }
            else if (rng.Next(8) == 0 && compilers.Count > 0)
            {
                query += "&compiler=" + Uri.EscapeDataString(rng.Pick(compilers));
            }

            queries.Add(query);
        }

        return queries;
    }

    private static async Task<List<string>> NamesAsync(string baseUrl, string cache)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        using var doc = JsonDocument.Parse(await http.GetStringAsync(
            $"api/v1/caches/{Uri.EscapeDataString(cache)}/packages?limit=500"));
        return doc.RootElement.GetProperty("packages").EnumerateArray()
            .Select(p => p.GetProperty("name").GetString()!).ToList();
    }

    /// <summary>What someone has typed of a name before the results should show it: its first half.</summary>
    private static string Prefix(string name) => name[..Math.Min(name.Length, Math.Max(2, name.Length / 2))];

    private static void Print(string key, List<double> values)
    {
        values.Sort();
        double At(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)];
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{key} {At(0.5):F2} {At(0.95):F2} {values[^1]:F2} {values.Count}"));
    }
}
