using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Depot.Catalog.Pages;
using Depot.Operations;

namespace Depot.Tests.Catalog.Pages;

/// <summary>
/// The static export: the contract's files, every link relative and pointing at a file of the export, the compact
/// search index, and the folder rules (new, empty or a previous export; written aside, then moved into place).
/// </summary>
public sealed partial class CatalogExportTests : IDisposable
{
    private readonly TempDir dir = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task TheExportHoldsEveryPageOfTheContract()
    {
        var source = FakeCatalogSource.Sample("main");
        var output = dir.Combine("site");
        var reports = new List<OperationProgress>();

        var result = await CatalogExport.RunAsync(source,
            new CatalogExportOptions(output, "https://cache.example/main"),
            new SynchronousProgress<OperationProgress>(reports.Add), Token);

        string[] expected = ["index.html", "main/index.html", "main/search.json", "main/keys/index.html",
            "main/package/zlib/index.html", "main/package/cmake/index.html", "_depot/assets/catalog.css",
            "_depot/assets/catalog.js", CatalogExport.MarkerFile];
        foreach (var file in expected.Concat(source.Rows.Select(r => $"main/spec/{r.Hash}/index.html")))
        {
            Assert.True(File.Exists(Path.Combine(output, file)), file + " is missing");
        }

        Assert.Equal(6, result.Specs);
        Assert.Equal(1, result.Skipped); // the package whose name holds '/' and '<' gets no folder
        Assert.Equal(2 + 3 + 6 + 1, result.Pages); // caches, cache, 3 packages, 6 specs, keys
        Assert.Equal(
            Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length),
            result.Bytes);
        Assert.Equal(9, reports.Count);
        Assert.Equal(9, reports[^1].Total);
        Assert.Equal([Path.GetFileName(output)], Directory.EnumerateFileSystemEntries(dir.Path)
            .Select(Path.GetFileName)); // nothing left beside it

        var spec = await File.ReadAllTextAsync(Path.Combine(output, "main", "spec", source.Rows[0].Hash, "index.html"),
            Token);
        PageAssert.FollowsTheContract(spec, "static");
        Assert.Contains("https://cache.example/main/", spec, StringComparison.Ordinal);
        var keys = await File.ReadAllTextAsync(Path.Combine(output, "main", "keys", "index.html"), Token);
        Assert.Contains("href=\"https://cache.example/main/v3/layout/_pgp/", keys, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryLinkIsRelativeAndReachesAFileOfTheExport()
    {
        var source = FakeCatalogSource.Synthetic("big", 1200); // 120 packages: two pages of them
        var output = dir.Combine("site");
        await CatalogExport.RunAsync(source, new CatalogExportOptions(output, "https://cache.example/big/"), null,
            Token);

        var pages = Directory.EnumerateFiles(output, "*.html", SearchOption.AllDirectories).ToList();
        Assert.Equal(2 + 1 + 120 + 1200 + 1, pages.Count); // index, 2 cache pages, packages, specs, keys
        var checkedLinks = 0;
        foreach (var page in pages)
        {
            var html = await File.ReadAllTextAsync(page, Token);
            PageAssert.FollowsTheContract(html, "static");
            foreach (Match link in LinkPattern().Matches(html))
            {
                var target = System.Net.WebUtility.HtmlDecode(link.Groups[2].Value).Replace("HASH", source.Rows[0].Hash,
                    StringComparison.Ordinal);
                if (target.StartsWith('#') || target == "data:,"
                    || target.StartsWith("https://cache.example/", StringComparison.Ordinal))
                {
                    continue;
                }

                Assert.False(target.StartsWith('/') || target.Contains("://", StringComparison.Ordinal),
                    $"{page}: {target} is not relative");
                var file = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!,
                    Uri.UnescapeDataString(target.Split('?', '#')[0])));
                Assert.True(File.Exists(file), $"{Path.GetRelativePath(output, page)}: {target} reaches nothing");
                checkedLinks++;
            }
        }

        Assert.True(checkedLinks > 10_000, $"{checkedLinks} links checked");
        Assert.True(File.Exists(Path.Combine(output, "big", "packages", "2", "index.html")));

        using var index = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(output, "big", "search.json"),
            Token));
        Assert.Equal(["hash", "name", "version", "arch", "compiler", "variants"],
            index.RootElement.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        var rows = index.RootElement.GetProperty("rows");
        Assert.Equal(1200, rows.GetArrayLength());
        Assert.Equal(source.Rows[0].Hash, rows[0][0].GetString());
        Assert.Equal(source.Rows[0].Variants, rows[0][5].GetString());
    }

    [Fact]
    public async Task APreviousExportIsReplacedAndAnyOtherFolderRefused()
    {
        var output = dir.Combine("site");
        await CatalogExport.RunAsync(FakeCatalogSource.Sample("main"), new CatalogExportOptions(output, "file:///m"),
            null, Token);
        await File.WriteAllTextAsync(Path.Combine(output, "stale.txt"), "from before", Token);

        await CatalogExport.RunAsync(FakeCatalogSource.Sample("other"), new CatalogExportOptions(output, "file:///m"),
            null, Token);

        Assert.True(File.Exists(Path.Combine(output, "other", "index.html")));
        Assert.False(Directory.Exists(Path.Combine(output, "main")));
        Assert.False(File.Exists(Path.Combine(output, "stale.txt")));

        var foreign = dir.Combine("documents");
        Directory.CreateDirectory(foreign);
        await File.WriteAllTextAsync(Path.Combine(foreign, "thesis.tex"), "precious", Token);
        var error = await Assert.ThrowsAsync<DepotException>(() => CatalogExport.RunAsync(
            FakeCatalogSource.Sample("main"), new CatalogExportOptions(foreign, "file:///m"), null, Token));
        Assert.Equal(ErrorKind.Conflict, error.Kind);
        Assert.Equal($"{foreign}: not empty and not a previous catalog export (no .depot-catalog); give a new or empty "
            + "folder", error.Message);
        Assert.Equal(["thesis.tex"], Directory.EnumerateFileSystemEntries(foreign).Select(Path.GetFileName));
        Assert.Equal(2, Directory.EnumerateFileSystemEntries(dir.Path).Count()); // no staging folder left
    }

    [Fact]
    public async Task AFailingSourceLeavesThePreviousExportWhole()
    {
        var output = dir.Combine("site");
        await CatalogExport.RunAsync(FakeCatalogSource.Sample("main"), new CatalogExportOptions(output, "file:///m"),
            null, Token);
        var before = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Order().ToList();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var cancelling = new SynchronousProgress<OperationProgress>(p =>
        {
            if (p.Done == 3)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CatalogExport.RunAsync(
            FakeCatalogSource.Synthetic("main", 500), new CatalogExportOptions(output, "file:///m", 1), cancelling,
            cancel.Token));

        Assert.Equal(before, Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Order());
        Assert.Single(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task TwentyThousandSpecsAreWrittenInAFewSeconds()
    {
        var source = FakeCatalogSource.Synthetic("big", 20_000);
        var clock = Stopwatch.StartNew();

        var result = await CatalogExport.RunAsync(source,
            new CatalogExportOptions(dir.Combine("site"), "https://cache.example/big/"), null, Token);

        Assert.Equal(20_000, result.Specs);
        TestContext.Current.SendDiagnosticMessage(
            $"export of 20,000 specs: {clock.Elapsed.TotalSeconds:0.00} s, {result.Pages} pages, {result.Bytes} bytes");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{clock.Elapsed} (target 10 s on an idle machine)");
    }

    [GeneratedRegex("\\s(href|src|data-index|data-spec-href|data-href)=\"([^\"]*)\"")]
    private static partial Regex LinkPattern();

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
