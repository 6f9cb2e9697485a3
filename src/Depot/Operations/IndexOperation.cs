using System.Collections.Concurrent;
using System.Diagnostics;
using Depot.Layout;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>Options of <see cref="IndexOperation"/>.</summary>
/// <param name="Full">Read every entry, ignoring the existing index.</param>
/// <param name="Parallelism">How many entries to read at once.</param>
public sealed record IndexOptions(bool Full = false, int Parallelism = 16);

/// <summary>What re-indexing one layout did.</summary>
/// <param name="LayoutVersion">3 or 2.</param>
/// <param name="IndexKey">Where the index was written.</param>
/// <param name="Specs">Specs marked <c>in_buildcache</c> in the new index.</param>
/// <param name="Records">All records, dependencies included.</param>
/// <param name="Read">Entries whose spec file was read.</param>
/// <param name="Reused">Entries taken from the previous index without reading.</param>
/// <param name="Removed">Specs of the previous index whose entry is gone.</param>
/// <param name="FullRebuild">True when no usable previous index existed (or a full rebuild was asked for).</param>
/// <param name="Problems">Entries that were skipped, with the reason.</param>
/// <param name="Elapsed">Wall-clock time of the run.</param>
public sealed record IndexResult(int LayoutVersion, string IndexKey, int Specs, int Records, int Read, int Reused, int Removed,
    bool FullRebuild, IReadOnlyList<EntryProblem> Problems, TimeSpan Elapsed)
{
    /// <summary>Why the previous index could not be used, when it existed but was unreadable.</summary>
    public string? PreviousIndexIssue { get; init; }
}

/// <summary>
/// Rebuilds a build cache's index from its entries, incrementally: the previous index is the state. An entry whose
/// hash the previous index already marks <c>in_buildcache</c> is reused without reading its spec; only new entries
/// are read, so adding k specs to a cache of N reads k spec files. Entries that are gone drop out. A missing or
/// unreadable previous index means a full rebuild. Bad entries are reported and skipped. The new index replaces the
/// old one only once complete (blob before manifest; <c>index.json</c> written atomically).
/// </summary>
public static class IndexOperation
{
    /// <summary>
    /// Reads new entries in parallel, adding the nodes they bring to <paramref name="known"/>. Only nodes not yet known
    /// are parsed. Returns the keys read successfully and the entries skipped.
    /// </summary>
    private static async Task<(HashSet<string> Read, List<EntryProblem> Problems)> ReadNewEntriesAsync(IBuildCacheLayout layout,
        List<SpecEntry> entries, ConcurrentDictionary<string, SpecNode> known, int parallelism,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var read = new ConcurrentBag<string>();
        var problems = new ConcurrentBag<EntryProblem>();
        var done = 0;
        await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (entry, ct) =>
            {
                try
                {
                    var raw = await layout.ReadRawEntryAsync(entry, null, ct).ConfigureAwait(false);
                    var (rootHash, layoutVersion, nodes) = SpecFileScanner.Scan(raw.Json, raw.Location, known.ContainsKey) is { } scan
                        ? (scan.RootHash, scan.LayoutVersion, scan.NewNodes)
                        : LegacyScan(raw);
                    BuildCacheLayoutExtensions.CheckLayoutVersion(layout, layoutVersion, raw.Location);
                    BuildCacheLayoutExtensions.CheckHash(layout, entry, rootHash);
                    foreach (var node in nodes)
                    {
                        known.TryAdd(node.Hash, node);
                    }

                    read.Add(entry.Key);
                }
                catch (DepotException e)
                {
                    problems.Add(new EntryProblem(layout.Store.Describe(entry.Key), "skipped entry: " + e.Message));
                }

                progress?.Report(new OperationProgress("read", Interlocked.Increment(ref done), entries.Count));
            }).ConfigureAwait(false);
        return (read.ToHashSet(StringComparer.Ordinal), problems.OrderBy(p => p.Location, StringComparer.Ordinal).ToList());
    }

    private static (string, int, IReadOnlyList<SpecNode>) LegacyScan(RawEntry raw)
    {
        var spec = SpecFile.Parse(raw.Json, raw.Location);
        return (spec.Root.Hash, spec.BuildcacheLayoutVersion, spec.Nodes);
    }

    public static async Task<IReadOnlyList<IndexResult>> RunAsync(IObjectStore store, IndexOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var results = new List<IndexResult>();
        foreach (var layout in await BuildCache.DetectAsync(store, cancellationToken).ConfigureAwait(false))
        {
            results.Add(await IndexLayoutAsync(layout, options, progress, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    public static async Task<IndexResult> IndexLayoutAsync(IBuildCacheLayout layout, IndexOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var problems = new List<EntryProblem>();
        BuildCacheIndex? previous = null;
        string? previousIssue = null;
        if (!options.Full)
        {
            try
            {
                previous = await layout.ReadIndexAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidContentException e)
            {
                previousIssue = e.Message + " (previous index unreadable: rebuilt from every entry)";
            }
        }

        var entries = new List<SpecEntry>();
        await foreach (var entry in layout.ListSpecEntriesAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(entry);
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var reused = new List<SpecEntry>();
        var toRead = new List<SpecEntry>();
        foreach (var entry in entries)
        {
            (previous?.Find(entry.Hash) is { InBuildcache: true } ? reused : toRead).Add(entry);
        }

        // Every node known so far, by hash: the previous index's records, then what new entries bring.
        var known = new ConcurrentDictionary<string, SpecNode>(StringComparer.Ordinal);
        foreach (var record in previous?.Records ?? [])
        {
            known.TryAdd(record.Spec.Hash, record.Spec);
        }

        var (readKeys, bad) = await ReadNewEntriesAsync(layout, toRead, known, options.Parallelism, progress, cancellationToken)
            .ConfigureAwait(false);
        problems.AddRange(bad);

        // Roots in listing order (sorted keys) so that a full rebuild is deterministic.
        var reusedKeys = reused.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var pushed = new List<(SpecNode, Func<string, SpecNode?>)>();
        Func<string, SpecNode?> resolve = h => known.GetValueOrDefault(h);
        foreach (var entry in entries)
        {
            if ((readKeys.Contains(entry.Key) || reusedKeys.Contains(entry.Key)) && known.TryGetValue(entry.Hash, out var root))
            {
                pushed.Add((root, resolve));
            }
        }

        var current = new HashSet<string>(entries.Select(e => e.Hash), StringComparer.Ordinal);
        var removed = previous?.CachedSpecs.Count(s => !current.Contains(s.Hash)) ?? 0;
        var index = BuildCacheIndex.Build(layout.IndexDatabaseVersion, pushed);
        cancellationToken.ThrowIfCancellationRequested();
        await layout.WriteIndexAsync(index, cancellationToken).ConfigureAwait(false);

        return new IndexResult(layout.Version, layout.Store.Describe(layout.IndexKey), index.CachedSpecs.Count(), index.Count,
            readKeys.Count, reused.Count, removed, previous is null, problems, clock.Elapsed)
        { PreviousIndexIssue = previousIssue };
    }
}
