using Depot.Layout;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>A spec available from a build cache, with a way to resolve its dependencies for display.</summary>
public sealed record CachedSpec(SpecNode Spec, int LayoutVersion, Func<string, SpecNode?> Resolve);

/// <summary>What <see cref="ListOperation"/> found.</summary>
/// <param name="Rows">Cached specs matching the queries, sorted by name, version and hash.</param>
/// <param name="Specs">The same specs as full nodes, when asked for (<see cref="ListOptions.NeedNodes"/>); else
/// empty.</param>
/// <param name="FromIndex">Per layout version: true when its index (or its cached summary) was used, false when
/// scanned.</param>
/// <param name="Problems">Entries that could not be read during a scan, or an unreadable index.</param>
public sealed record ListResult(IReadOnlyList<ListingRow> Rows, IReadOnlyList<CachedSpec> Specs,
    IReadOnlyDictionary<int, bool> FromIndex, IReadOnlyList<EntryProblem> Problems);

/// <summary>Options of <see cref="ListOperation"/>.</summary>
/// <param name="Queries">Spec queries; a spec is listed when it matches any (all specs when empty).</param>
/// <param name="Rescan">Read every entry instead of the index.</param>
/// <param name="Parallelism">How many entries to read at once when scanning.</param>
/// <param name="NeedNodes">Return full nodes too (machine-readable output); bypasses the summary cache.</param>
/// <param name="Cache">Local summaries of indexes (null: always read the index).</param>
public sealed record ListOptions(IReadOnlyList<SpecQuery> Queries, bool Rescan = false, int Parallelism = 16,
    bool NeedNodes = false, IndexCache? Cache = null);

/// <summary>
/// Lists the specs a build cache holds (index records marked <c>in_buildcache</c>; externals recorded in the index
/// cannot be installed from the cache and are not listed). Uses a local summary of the index when its checksum
/// matches, else the index, else scans entries.
/// </summary>
public static class ListOperation
{
    /// <summary>Lists what <paramref name="mirror"/> holds, in the layouts it detected once.</summary>
    public static async Task<ListResult> RunAsync(Mirror mirror, ListOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        var store = mirror.Store;
        var layouts = await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false);
        var rows = new Dictionary<string, ListingRow>(StringComparer.Ordinal);
        var nodes = new Dictionary<string, CachedSpec>(StringComparer.Ordinal);
        var fromIndex = new Dictionary<int, bool>();
        var problems = new List<EntryProblem>();
        var useSummaries = options.Cache is not null && !options.Rescan && !options.NeedNodes
            && !options.Queries.Any(q => q.HasVariants);
        foreach (var layout in layouts)
        {
            string? checksum = null;
            if (useSummaries)
            {
                try
                {
                    checksum = await layout.ReadIndexChecksumAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidContentException)
                {
                    // Reading the index below reports the problem.
                }

                if (checksum is not null
                    && options.Cache!.TryRead(IndexCache.Key(store, layout.Version, checksum)) is { } cached
                    && await IndexIntactAsync(layout, cancellationToken).ConfigureAwait(false))
                {
                    fromIndex[layout.Version] = true;
                    if (layouts.Count == 1 && options.Queries.Count == 0)
                    {
                        // One layout, everything asked for: its summary is the listing (200,000 rows not re-keyed).
                        var all = cached as List<ListingRow> ?? [.. cached];
                        if (!IsSorted(all))
                        {
                            all.Sort(DisplayOrder);
                        }

                        return new ListResult(all, [], fromIndex, problems);
                    }

                    foreach (var row in cached)
                    {
                        rows.TryAdd(row.Hash, row);
                    }

                    continue;
                }
            }

            var found = await ReadSpecsAsync(mirror, layout, options, problems, progress, cancellationToken)
                .ConfigureAwait(false);
            var readChecksum = useSummaries && found.IndexJson is not null
                ? await IndexCache.ChecksumOfRead(layout, checksum, found.IndexJson, cancellationToken)
                    .ConfigureAwait(false)
                : null;
            fromIndex[layout.Version] = found.FromIndex;
            var pairs = found.Specs.Select(c => (Row: ListingRow.From(c.Spec, c.Resolve, layout.Version), Spec: c))
                .ToList();
            pairs.Sort((a, b) => DisplayOrder(a.Row, b.Row));
            var layoutRows = pairs.Select(p => p.Row).ToList();
            if (readChecksum is not null)
            {
                // Keyed by the bytes read, never by what the mirror claims them to be.
                options.Cache!.Write(IndexCache.Key(store, layout.Version, readChecksum), layoutRows);
            }

            foreach (var (row, spec) in pairs)
            {
                if (rows.TryAdd(row.Hash, row))
                {
                    nodes[row.Hash] = spec;
                }
            }
        }

        var selected = rows.Values
            .Where(r => options.Queries.Count == 0 || options.Queries.Any(q => q.HasVariants
                ? nodes.TryGetValue(r.Hash, out var c) && q.Matches(c.Spec)
                : q.Matches(r.Name, r.Version, r.Hash)))
            .ToList();
        if (!IsSorted(selected))
        {
            selected.Sort(DisplayOrder);
        }

        var specs = options.NeedNodes ? selected.Select(r => nodes[r.Hash]).ToList() : [];
        return new ListResult(selected, specs, fromIndex, problems);
    }

    // A summary stands for the index bytes it was made from; an index blob truncated or removed since must not hide
    // behind it: the index is then read, which reports the damage, and the entries are scanned.
    private static async Task<bool> IndexIntactAsync(IBuildCacheLayout layout, CancellationToken cancellationToken)
    {
        try
        {
            return layout is not BuildCacheV3 v3
                || await v3.IndexBlobIntactAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidContentException)
        {
            return false; // the manifest changed meanwhile into something unreadable: reading the index says so
        }
    }

    /// <summary>By name, version and hash: the order listings are shown (and summaries are written) in.</summary>
    public static int DisplayOrder(ListingRow a, ListingRow b)
    {
        var c = string.CompareOrdinal(a.Name, b.Name);
        if (c == 0)
        {
            c = string.CompareOrdinal(a.Version, b.Version);
        }

        return c != 0 ? c : string.CompareOrdinal(a.Hash, b.Hash);
    }

    private static bool IsSorted(List<ListingRow> rows)
    {
        for (var i = 1; i < rows.Count; i++)
        {
            if (DisplayOrder(rows[i - 1], rows[i]) > 0)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<(bool FromIndex, List<CachedSpec> Specs, byte[]? IndexJson)> ReadSpecsAsync(
        Mirror mirror, IBuildCacheLayout layout, ListOptions options,
        List<EntryProblem> problems, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        BuildCacheIndex? index = null;
        byte[]? json = null;
        if (!options.Rescan)
        {
            try
            {
                if (await layout.ReadIndexBytesAsync(cancellationToken).ConfigureAwait(false) is { } found)
                {
                    index = BuildCacheIndex.Parse(found.Json, found.Location);
                    json = found.Json;
                }
            }
            catch (InvalidContentException e)
            {
                // A broken index must not hide the cache: say so and read the entries instead.
                problems.Add(new EntryProblem(e.Location,
                    e.Message + " (index unreadable: scanned the entries instead)", e.Kind,
                    ErrorHint.RebuildIndex(mirror.Name)));
            }
        }

        if (index is not null)
        {
            return (true,
                index.CachedSpecs.Select(s => new CachedSpec(s, layout.Version, h => index.Find(h)?.Spec)).ToList(),
                json);
        }

        var entries = new List<SpecEntry>();
        await foreach (var entry in layout.ListSpecEntriesAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(entry);
        }

        var (read, bad) = await EntryReader.ReadAllAsync(layout, entries, options.Parallelism, progress, "scan",
            cancellationToken)
            .ConfigureAwait(false);
        problems.AddRange(bad);
        return (false, read.Select(r => new CachedSpec(r.Spec.Root, layout.Version, r.Spec.FindByHash)).ToList(), null);
    }
}
