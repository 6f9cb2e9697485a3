using System.Collections.Concurrent;
using System.Diagnostics;
using Depot.Layout;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>Options of <see cref="IndexOperation"/>.</summary>
/// <param name="Full">Read every entry, ignoring the existing index.</param>
/// <param name="Parallelism">How many entries to read at once.</param>
/// <param name="Cache">Local listing summaries to keep in step with the index (null: none).</param>
public sealed record IndexOptions(bool Full = false, int Parallelism = 16, IndexCache? Cache = null);

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
public sealed record IndexResult(int LayoutVersion, string IndexKey, int Specs, int Records, int Read, int Reused,
    int Removed, bool FullRebuild, IReadOnlyList<EntryProblem> Problems, TimeSpan Elapsed)
{
    /// <summary>Why the previous index could not be used, when it existed but was unreadable.</summary>
    public string? PreviousIndexIssue { get; init; }

    /// <summary>How long each phase of the update took, in order (previous index, list entries — listed meanwhile,
    /// so only what is left to wait for —, read new entries, compose or "compose (spliced)", write, save table,
    /// listing summary).</summary>
    public IReadOnlyList<PhaseTime> Phases { get; init; } = [];

    /// <summary>How many times the update was made: more than 1 when a concurrent writer's index was refused or
    /// repaired (see <see cref="IndexOperation.IndexLayoutAsync"/>).</summary>
    public int Attempts { get; init; } = 1;
}

/// <summary>One phase of an operation and its wall-clock time.</summary>
public sealed record PhaseTime(string Name, TimeSpan Elapsed);

/// <summary>
/// Rebuilds a build cache's index from its entries, incrementally: the previous index is the state. An entry whose
/// hash the previous index already marks <c>in_buildcache</c> is reused without reading its spec; only new entries
/// are read, so adding k specs to a cache of N reads k spec files. Entries that are gone drop out. A missing or
/// unreadable previous index means a full rebuild. Bad entries are reported and skipped. The new index replaces the
/// old one only once complete (blob before manifest; <c>index.json</c> written atomically).
/// </summary>
public static class IndexOperation
{
    /// <summary>How many times an update is made before it gives up with <see cref="ErrorKind.Conflict"/>.</summary>
    public const int MaxAttempts = 10;

    /// <summary>
    /// Reads new entries in parallel, adding the nodes they bring to <paramref name="known"/>. Only nodes not yet known
    /// are parsed. Returns the keys read successfully and the entries skipped.
    /// </summary>
    private static async Task<(HashSet<string> Read, List<EntryProblem> Problems)> ReadNewEntriesAsync(
        IBuildCacheLayout layout, List<SpecEntry> entries, Func<string, bool> isKnown,
        ConcurrentDictionary<string, SpecNode> known,
        int parallelism, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var read = new ConcurrentBag<string>();
        var problems = new ConcurrentBag<EntryProblem>();
        if (entries.Count == 0)
        {
            return ([], []); // re-indexing an unchanged cache: no workers to start
        }

        var done = 0;
        await Parallel.ForEachAsync(entries,
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (entry, ct) =>
            {
                try
                {
                    var raw = await layout.ReadRawEntryAsync(entry, null, ct).ConfigureAwait(false);
                    string rootHash;
                    int layoutVersion;
                    IReadOnlyList<SpecNode> nodes;
                    try
                    {
                        (rootHash, layoutVersion, nodes) = SpecFileScanner.Scan(raw.Json.Span, raw.Location,
                            isKnown) is { } scan
                            ? (scan.RootHash, scan.LayoutVersion, scan.NewNodes)
                            : LegacyScan(raw);
                    }
                    finally
                    {
                        raw.Release(); // nodes were copied out of the buffer
                    }

                    BuildCacheLayoutExtensions.CheckLayoutVersion(layout, layoutVersion, raw.Location);
                    BuildCacheLayoutExtensions.CheckHash(layout, entry, rootHash);
                    foreach (var node in nodes)
                    {
                        known.TryAdd(node.Hash, node);
                    }

                    read.Add(entry.Key);
                }
                catch (DepotException e) when (e.Kind.ConcernsOneEntry())
                {
                    problems.Add(new EntryProblem(layout.Store.Describe(entry.Key), "skipped entry: " + e.Message,
                        e.Kind, e.Hint));
                }

                progress?.Report(new OperationProgress("read", Interlocked.Increment(ref done), entries.Count));
            }).ConfigureAwait(false);
        return (read.ToHashSet(StringComparer.Ordinal),
            problems.OrderBy(p => p.Location, StringComparer.Ordinal).ToList());
    }

    private static (string, int, IReadOnlyList<SpecNode>) LegacyScan(RawEntry raw)
    {
        var spec = SpecFile.Parse(raw.Json.Span, raw.Location);
        return (spec.Root.Hash, spec.BuildcacheLayoutVersion, spec.Nodes);
    }

    /// <summary>Re-indexes every layout <paramref name="mirror"/> holds (see <see cref="IndexLayoutAsync"/>).</summary>
    public static async Task<IReadOnlyList<IndexResult>> RunAsync(Mirror mirror, IndexOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        _ = mirror.Writable; // a read-only mirror is refused before anything is read
        var results = new List<IndexResult>();
        foreach (var layout in await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false))
        {
            results.Add(await IndexLayoutAsync(layout, options, progress, cancellationToken).ConfigureAwait(false));
        }

        return results;
    }

    /// <summary>
    /// Re-indexes one layout, never losing a concurrent writer's entries. The index is written conditionally: only if
    /// nobody replaced it since it was read. When another <c>depot index</c> or push got there first, the update is
    /// made again on top of theirs. On a store whose conditional writes are not atomic
    /// (<see cref="IStoreWriter.ConditionalWritesAreAtomic"/>: s3rver, an OCI registry) a write racing another can
    /// still replace it, so there the index is read back and the entries listed again once written: when the index is
    /// not the one written, or an entry is missing from it, the update is made again (from the index now there, so
    /// only what is missing is read), until the index is stable or <see cref="MaxAttempts"/> is reached.
    /// </summary>
    /// <exception cref="DepotException"><see cref="ErrorKind.Conflict"/>: the index kept changing.</exception>
    public static async Task<IndexResult> IndexLayoutAsync(IBuildCacheLayout layout, IndexOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var atomic = layout.Store is IStoreWriter { ConditionalWritesAreAtomic: true };
        for (var attempt = 1; ; attempt++)
        {
            var written = await IndexOnceAsync(layout, options, progress, cancellationToken).ConfigureAwait(false);
            if (written is not null && (atomic || await IndexSettling.IsSettledAsync(layout, written, cancellationToken)
                .ConfigureAwait(false)))
            {
                return written.Result with { Attempts = attempt };
            }

            if (attempt == MaxAttempts)
            {
                throw new DepotException(ErrorKind.Conflict,
                    $"{layout.Store.Describe(layout.IndexKey)}: the index kept changing while it was updated "
                    + $"({MaxAttempts} attempts); try again");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(20, 100 * attempt)), cancellationToken)
                .ConfigureAwait(false);
        }
    }

    // One attempt; null when the index changed under it.
    private static async Task<WrittenIndex?> IndexOnceAsync(IBuildCacheLayout layout, IndexOptions options,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var indexVersion = (await layout.Store.GetInfoAsync(layout.IndexKey, cancellationToken)
            .ConfigureAwait(false))?.Version;
        var phaseStart = TimeSpan.Zero;
        var phases = new List<PhaseTime>();
        void Phase(string name)
        {
            // Where the time goes, for the host to show (bench/ and bug reports); engines never print.
            phases.Add(new PhaseTime(name, clock.Elapsed - phaseStart));
            phaseStart = clock.Elapsed;
        }

        var problems = new List<EntryProblem>();
        // The entries are listed while the previous index is read (two requests in flight, or two cores busy).
        var listing = Task.Run(() => ListSortedAsync(layout, cancellationToken), cancellationToken);
        var (previous, previousChecksum, snapshotCached, previousIssue) = options.Full ? PreviousIndex.None
            : await PreviousIndex.ReadAsync(layout, options.Cache, cancellationToken).ConfigureAwait(false);
        Phase("previous index");
        var entries = await listing.ConfigureAwait(false);
        Phase("list entries");
        var reused = new bool[entries.Count];
        var reusedCount = 0;
        var toRead = new List<SpecEntry>();
        for (var i = 0; i < entries.Count; i++)
        {
            reused[i] = previous?.Find(entries[i].Hash) is { InBuildcache: true };
            if (reused[i])
            {
                reusedCount++;
            }
            else
            {
                toRead.Add(entries[i]);
            }
        }

        // Nodes new entries bring; nodes the previous index already has are not parsed again.
        var known = new ConcurrentDictionary<string, SpecNode>(StringComparer.Ordinal);
        var (readKeys, bad) = await ReadNewEntriesAsync(layout, toRead,
            h => known.ContainsKey(h) || previous?.Find(h) is not null, known,
            options.Parallelism, progress, cancellationToken).ConfigureAwait(false);
        problems.AddRange(bad);
        Phase("read new entries");

        // Roots in listing order (sorted keys) so that a full rebuild is deterministic. What was removed: the
        // previous index's pushed specs that no reused entry names.
        var roots = new List<string>(entries.Count);
        var rootSet = new HashSet<string>(entries.Count, StringComparer.Ordinal);
        var added = new List<string>();
        var stillThere = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var hash = entries[i].Hash;
            var read = !reused[i] && readKeys.Contains(entries[i].Key);
            if ((reused[i] || read) && rootSet.Add(hash))
            {
                roots.Add(hash);
                stillThere += reused[i] ? 1 : 0;
                if (read)
                {
                    added.Add(hash);
                }
            }
        }

        var removed = previous is null ? 0 : previous.Table.Count(r => r.InBuildcache) - stillThere;
        var summary = Task.Run(() => PlanListing(options.Cache, layout.Store, layout.Version, previousChecksum, roots,
            added, removed, previous, known), cancellationToken);

        var composed = IndexComposer.Compose(layout.IndexDatabaseVersion, roots, rootSet, previous, known,
            nothingRemoved: previous is not null && removed == 0);
        Phase(composed.Spliced ? "compose (spliced)" : "compose");
        cancellationToken.ThrowIfCancellationRequested();
        var written = await layout.TryWriteIndexAsync(composed, indexVersion, cancellationToken)
            .ConfigureAwait(false);
        if (written is not { } done)
        {
            return null;
        }

        var (checksum, table) = done;
        Phase("write");
        if (checksum != previousChecksum || !snapshotCached)
        {
            options.Cache?.WriteSnapshot(IndexCache.Key(layout.Store, layout.Version, checksum), table);
        }

        Phase("save table");
        (await summary.ConfigureAwait(false))?.Invoke(checksum);
        Phase("listing summary");
        var result = new IndexResult(layout.Version, layout.Store.Describe(layout.IndexKey), roots.Count,
            composed.Records, readKeys.Count, reusedCount, removed, previous is null, problems, clock.Elapsed)
        { PreviousIndexIssue = previousIssue, Phases = phases };
        return new WrittenIndex(result, checksum, roots.ToHashSet(StringComparer.Ordinal),
            toRead.Select(e => e.Key).Where(k => !readKeys.Contains(k)).ToHashSet(StringComparer.Ordinal));
    }

    private static async Task<List<SpecEntry>> ListSortedAsync(IBuildCacheLayout layout,
        CancellationToken cancellationToken)
    {
        var entries = new List<SpecEntry>();
        await foreach (var entry in layout.ListSpecEntriesAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(entry);
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return entries;
    }

    /// <summary>
    /// Prepares the local listing summary that goes with the index being written (the rows are the costly part, so
    /// they are made while the index is composed): the previous summary plus rows for new specs when nothing was
    /// removed, else the previous rows that remain plus new ones, or all rows when every node was parsed anyway.
    /// Returns what writes it under the new index's checksum, or null when there is nothing to do.
    /// </summary>
    private static Action<string>? PlanListing(IndexCache? cache, IStoreReader store, int layoutVersion,
        string? previousChecksum,
        List<string> roots, List<string> added, int removed, IndexSnapshot? previous,
            ConcurrentDictionary<string, SpecNode> known)
    {
        if (cache is null)
        {
            return null;
        }

        SpecNode? Resolve(string h) => known.TryGetValue(h, out var n) ? n : previous?.Node(h);
        // Each row is made from a copy of its node that keeps none of what reading its fields caches (edges,
        // variants): the nodes stay as light as the index needs them, 200,000 of them at once in a full rebuild.
        ListingRow? Row(string hash) =>
            Resolve(hash) is { } n ? ListingRow.From(n.Unshared(), Resolve, layoutVersion) : null;
        // A few rows (specs added since the last index) are not worth starting PLINQ for. Many are made while the
        // index is composed and written, whose streamed writes need a pool thread now and then: PLINQ on every core
        // held the threads a small machine's pool starts with, and the writes waited for the pool to grow (0.5-1 s).
        List<ListingRow> RowsFor(IReadOnlyList<string> hashes) => hashes.Count < 1000
            ? [.. hashes.Select(Row).OfType<ListingRow>()]
            : [.. hashes.AsParallel().AsOrdered().WithDegreeOfParallelism(Math.Max(1, Environment.ProcessorCount - 1))
                .Select(Row).OfType<ListingRow>()];
        string Key(string checksum) => IndexCache.Key(store, layoutVersion, checksum);
        bool Unchanged(string checksum) => checksum == previousChecksum && cache.Has(Key(checksum));

        var oldKey = previous is not null && previousChecksum is not null ? Key(previousChecksum) : null;
        if (oldKey is not null && removed == 0 && cache.Has(oldKey))
        {
            // Only additions: the previous summary's rows stay as they are.
            var newRows = RowsFor(added);
            return checksum =>
            {
                if (!Unchanged(checksum))
                {
                    cache.Extend(oldKey, Key(checksum), newRows);
                }
            };
        }

        var old = oldKey is null ? null : cache.TryRead(oldKey);
        List<ListingRow> rows;
        if (old is not null)
        {
            var rootSet = roots.ToHashSet(StringComparer.Ordinal);
            var kept = old.Where(r => rootSet.Contains(r.Hash)).ToList();
            var have = kept.Select(r => r.Hash).ToHashSet(StringComparer.Ordinal);
            rows = [.. kept, .. RowsFor([.. roots.Where(h => !have.Contains(h))])];
        }
        else if (previous is null || added.Count == roots.Count)
        {
            rows = RowsFor(roots);
        }
        else
        {
            return null; // no summary to start from and most nodes unparsed: `depot list` makes one when needed
        }

        rows.Sort(ListOperation.DisplayOrder);
        return checksum =>
        {
            if (!Unchanged(checksum))
            {
                cache.Write(Key(checksum), rows);
            }
        };
    }
}
