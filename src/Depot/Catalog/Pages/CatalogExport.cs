using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Depot.Operations;

namespace Depot.Catalog.Pages;

/// <summary>What <see cref="CatalogExport"/> writes and where.</summary>
/// <param name="OutputDirectory">The export's folder: new, empty, or a previous export (replaced).</param>
/// <param name="MirrorUrl">The URL consumers add (install commands; key files are linked below it).</param>
/// <param name="Parallelism">Pages written at once.</param>
public sealed record CatalogExportOptions(string OutputDirectory, string MirrorUrl, int Parallelism = 8);

/// <summary>What an export wrote.</summary>
/// <param name="OutputDirectory">The export's folder.</param>
/// <param name="Pages">HTML pages written.</param>
/// <param name="Specs">Specs with a page.</param>
/// <param name="Skipped">Specs and packages left out because their hash or name cannot be a folder name.</param>
/// <param name="Bytes">Bytes of every file written.</param>
/// <param name="Elapsed">How long it took.</param>
public sealed record CatalogExportResult(string OutputDirectory, int Pages, int Specs, int Skipped, long Bytes,
    TimeSpan Elapsed);

/// <summary>
/// <c>depot catalog</c>: the catalog of one cache as static files — the same pages as the server's, at the same paths
/// with <c>index.html</c> in each folder (<c>index.html</c>, <c>NAME/</c>, <c>NAME/packages/N/</c>,
/// <c>NAME/package/PKG/</c>, <c>NAME/spec/HASH/</c>, <c>NAME/keys/</c>), links relative to each page (so the folder
/// works anywhere: a bucket website, GitHub Pages under <c>/repo/</c>, an air-gapped web server),
/// <c>NAME/search.json</c> (the compact index the pages search in the browser) and <c>_depot/assets/</c>. Everything
/// is written to a new folder beside the target, then moved into place: a failed export leaves the old one whole.
/// </summary>
public static class CatalogExport
{
    /// <summary>The file that marks a folder as an export (so a later export may replace it).</summary>
    public const string MarkerFile = ".depot-catalog";

    private const int SearchBatch = 5000;
    private const int PackageBatch = 1000;
    private const int ActivityShown = 10;

    /// <summary>Writes the export of <paramref name="source"/>.</summary>
    /// <exception cref="DepotException">The target is a non-empty folder that is not an export (conflict), the cache's
    /// name cannot be a folder name (usage), or the source or the disk fails.</exception>
    public static async Task<CatalogExportResult> RunAsync(ICatalogSource source, CatalogExportOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var target = Path.GetFullPath(options.OutputDirectory.TrimEnd('/', Path.DirectorySeparatorChar));
        CheckTarget(target);
        if (!IsFolderName(source.Name))
        {
            throw new DepotException(ErrorKind.Usage,
                $"cache name '{source.Name}' cannot be a folder name in the export (give another with --name)");
        }

        var parent = Path.GetDirectoryName(target) ?? target;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var site = new StaticSite(staging);
            var (specs, skipped) = await WriteAsync(site, source, options, progress, cancellationToken)
                .ConfigureAwait(false);
            site.WriteText(MarkerFile, string.Create(CultureInfo.InvariantCulture,
                $"{{\"cache\":{JsonSerializer.Serialize(source.Name)},\"specs\":{specs}}}\n"));
            MoveIntoPlace(staging, target);
            return new CatalogExportResult(target, site.Pages, specs, skipped, site.Bytes, clock.Elapsed);
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    private static async Task<(int Specs, int Skipped)> WriteAsync(StaticSite site, ICatalogSource source,
        CatalogExportOptions options, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var name = source.Name;
        var summary = await source.GetSummaryAsync(cancellationToken).ConfigureAwait(false);
        foreach (var asset in CatalogAssets.All)
        {
            site.WriteAsset("_depot/assets/" + asset.Name, asset);
        }

        site.WritePage("index.html", w => CachesPage.Write(w, PageSettings.Static(0), [summary]));

        var rows = await AllRowsAsync(source, cancellationToken).ConfigureAwait(false);
        site.WriteJson(name + "/search.json", w => CatalogJson.WriteSearchIndex(w, rows));

        var packages = await AllPackagesAsync(source, cancellationToken).ConfigureAwait(false);
        var first = await source.SearchAsync(new CatalogQuery("", Limit: CachePage.ResultsPerPage), cancellationToken)
            .ConfigureAwait(false);
        var activity = await source.GetActivityAsync(ActivityShown, cancellationToken).ConfigureAwait(false);
        var pageCount = Math.Max(1, (packages.Count + CachePage.PackagesPerPage - 1) / CachePage.PackagesPerPage);
        for (var page = 1; page <= pageCount; page++)
        {
            var listing = new PackageListing(packages.Count,
                packages.Skip((page - 1) * CachePage.PackagesPerPage).Take(CachePage.PackagesPerPage).ToList());
            var model = new CachePageModel(summary, new CatalogQuery(""), first, listing, page, activity);
            var (path, depth) = page == 1 ? (name + "/index.html", 1)
                : (name + "/packages/" + page.ToString(CultureInfo.InvariantCulture) + "/index.html", 3);
            site.WritePage(path, w => CachePage.Write(w, PageSettings.Static(depth), model));
        }

        var keys = await source.GetKeysAsync(cancellationToken).ConfigureAwait(false);
        site.WritePage(name + "/keys/index.html",
            w => KeysPage.Write(w, PageSettings.Static(2), name, keys, options.MirrorUrl));

        var skipped = 0;
        var named = packages.Where(p => IsFolderName(p.Name)).ToList();
        var specs = rows.Where(r => IsHash(r.Hash)).ToList();
        skipped += packages.Count - named.Count + rows.Count - specs.Count;
        var total = named.Count + specs.Count;
        var done = 0;
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, options.Parallelism),
            CancellationToken = cancellationToken,
        };
        var settings = PageSettings.Static(3);
        await Parallel.ForEachAsync(named, parallel, async (package, token) =>
        {
            if (await source.GetPackageAsync(package.Name, token).ConfigureAwait(false) is { } detail)
            {
                site.WritePage(name + "/package/" + package.Name + "/index.html",
                    w => PackagePage.Write(w, settings, name, detail));
            }

            progress?.Report(new OperationProgress("pages", Interlocked.Increment(ref done), total));
        }).ConfigureAwait(false);
        var written = 0;
        await Parallel.ForEachAsync(specs, parallel, async (row, token) =>
        {
            if (await source.GetSpecAsync(row.Hash, options.MirrorUrl, token).ConfigureAwait(false) is { } spec)
            {
                site.WritePage(name + "/spec/" + row.Hash + "/index.html",
                    w => SpecPage.Write(w, settings, name, spec));
                Interlocked.Increment(ref written);
            }

            progress?.Report(new OperationProgress("pages", Interlocked.Increment(ref done), total));
        }).ConfigureAwait(false);
        return (written, skipped);
    }

    /// <summary>Every spec, in the source's search order (the order the browser shows them).</summary>
    private static async Task<List<SpecRow>> AllRowsAsync(ICatalogSource source, CancellationToken cancellationToken)
    {
        var rows = new List<SpecRow>();
        while (true)
        {
            var batch = await source.SearchAsync(new CatalogQuery("", Offset: rows.Count, Limit: SearchBatch),
                cancellationToken).ConfigureAwait(false);
            rows.AddRange(batch.Rows);
            if (batch.Rows.Count == 0 || rows.Count >= batch.Total)
            {
                return rows;
            }
        }
    }

    private static async Task<List<PackageRow>> AllPackagesAsync(ICatalogSource source,
        CancellationToken cancellationToken)
    {
        var packages = new List<PackageRow>();
        while (true)
        {
            var batch = await source.GetPackagesAsync(packages.Count, PackageBatch, cancellationToken)
                .ConfigureAwait(false);
            packages.AddRange(batch.Packages);
            if (batch.Packages.Count == 0 || packages.Count >= batch.Total)
            {
                return packages;
            }
        }
    }

    /// <summary>A new folder, an empty one, or a previous export; anything else is refused before writing.</summary>
    private static void CheckTarget(string target)
    {
        if (File.Exists(target))
        {
            throw new DepotException(ErrorKind.Conflict, $"{target}: is a file, not a folder for the export");
        }

        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()
            && !File.Exists(Path.Combine(target, MarkerFile)))
        {
            throw new DepotException(ErrorKind.Conflict,
                $"{target}: not empty and not a previous catalog export (no {MarkerFile}); give a new or empty folder");
        }
    }

    /// <summary>The staged export becomes <paramref name="target"/>; a previous export there is removed after.
    /// </summary>
    private static void MoveIntoPlace(string staging, string target)
    {
        string? old = null;
        if (Directory.Exists(target))
        {
            old = staging + ".old";
            Directory.Move(target, old);
        }

        try
        {
            Directory.Move(staging, target);
        }
        catch
        {
            if (old is not null)
            {
                Directory.Move(old, target);
            }

            throw;
        }

        if (old is not null)
        {
            TryDelete(old);
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Left behind: a hidden folder named after the export, harmless, removed by hand.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    /// <summary>Whether <paramref name="name"/> can be one folder name on any system the export is copied to.</summary>
    internal static bool IsFolderName(string name) =>
        name.Length is > 0 and <= 200 && name is not "." and not ".."
        && !name.Any(c => c is '/' or '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|' || char.IsControl(c));

    private static bool IsHash(string hash) =>
        hash.Length == 32 && hash.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));

    /// <summary>The staging folder: files written and counted (pages, bytes) from several threads.</summary>
    private sealed class StaticSite(string root)
    {
        private static readonly UTF8Encoding Utf8 = new(false);
        private int pages;
        private long bytes;

        public int Pages => pages;

        public long Bytes => Interlocked.Read(ref bytes);

        public void WritePage(string relative, Action<TextWriter> write)
        {
            Write(relative, stream =>
            {
                using var writer = new StreamWriter(stream, Utf8, 1 << 15, leaveOpen: true);
                write(writer);
            });
            Interlocked.Increment(ref pages);
        }

        public void WriteJson(string relative, Action<Utf8JsonWriter> write) => Write(relative, stream =>
        {
            using var json = new Utf8JsonWriter(stream);
            write(json);
        });

        public void WriteText(string relative, string text) => Write(relative, s => s.Write(Utf8.GetBytes(text)));

        public void WriteAsset(string relative, CatalogAssets asset) => Write(relative, stream =>
        {
            using var content = asset.OpenRead();
            content.CopyTo(stream);
        });

        private void Write(string relative, Action<Stream> write)
        {
            var path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            write(stream);
            stream.Flush();
            Interlocked.Add(ref bytes, stream.Length);
        }
    }
}
