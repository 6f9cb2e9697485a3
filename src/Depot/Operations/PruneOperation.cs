using System.Collections.Concurrent;
using System.Diagnostics;
using Depot.Layout;
using Depot.Sources;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// Removes what a build cache no longer needs, per layout, from one listing (<see cref="CacheInventory"/>): orphans
/// (blobs or tarballs no entry names, entries whose blobs are missing, writers' temporaries, keys the key index no
/// longer lists) and, with retention rules, entries that are old or beyond the last N versions of their package,
/// never one in the link/run closure of an entry that stays or of a kept hash. A dry run unless
/// <see cref="PruneOptions.Apply"/>; applied, the index is updated at the end. Safe beside a push: nothing younger
/// than the grace period is touched but expired entries, and nothing written since the listing (each item is looked
/// at again before it goes); the one race left (a push reusing an old orphan blob) is reported when seen.
/// </summary>
public static class PruneOperation
{
    /// <summary>Plans, and with <see cref="PruneOptions.Apply"/> deletes, every layout of
    /// <paramref name="mirror"/>.</summary>
    /// <exception cref="DepotException">A read-only mirror or an OCI registry
    /// (<see cref="ErrorKind.Unsupported"/>), or the store failed.</exception>
    public static async Task<PruneResult> RunAsync(Mirror mirror, PruneOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentNullException.ThrowIfNull(options);
        _ = mirror.Writable; // a read-only mirror is refused before anything is read
        var clock = Stopwatch.StartNew();
        var phases = new List<PhaseTime>();
        var lastPhase = TimeSpan.Zero;
        void Phase(string name)
        {
            phases.Add(new PhaseTime(name, clock.Elapsed - lastPhase));
            lastPhase = clock.Elapsed;
        }

        var items = new List<PruneItem>();
        var problems = new ConcurrentBag<EntryProblem>();
        var indexed = new List<IndexResult>();
        var sources = mirror.Store as IStoreLister;
        var holdsSources = sources is not null
            && await SourceMirror.HoldsSourcesAsync(sources, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<IBuildCacheLayout> layouts;
        try
        {
            layouts = await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NoBuildCacheException) when (holdsSources)
        {
            layouts = []; // a source mirror alone
        }

        foreach (var layout in layouts)
        {
            var inventory = await CacheInventory.TakeAsync(layout, options.Parallelism, progress, cancellationToken)
                .ConfigureAwait(false);
            Phase($"v{layout.Version} list and read manifests");
            var plan = await PlanAsync(inventory, options, problems, progress, cancellationToken)
                .ConfigureAwait(false);
            Phase($"v{layout.Version} plan");
            if (!options.Apply)
            {
                items.AddRange(plan);
                continue;
            }

            var deleted = await EntryRemoval.DeleteAsync(inventory, plan, options.Parallelism, problems, progress,
                cancellationToken).ConfigureAwait(false);
            items.AddRange(deleted);
            await EntryRemoval.CheckNewManifestsAsync(inventory, deleted, problems, cancellationToken)
                .ConfigureAwait(false);
            Phase($"v{layout.Version} delete");
            if (deleted.Any(i => i.Reason is PruneReason.BrokenEntry or PruneReason.Expired))
            {
                indexed.Add(await EntryRemoval.ReindexAsync(layout, options.Cache, options.Parallelism, progress,
                    cancellationToken).ConfigureAwait(false));
                Phase($"v{layout.Version} index");
            }
        }

        if (holdsSources)
        {
            var cutoff = DateTimeOffset.UtcNow - (options.Grace ?? PruneOptions.DefaultGrace);
            var strays = await SourcePrune.PlanAsync(sources!, cutoff, cancellationToken).ConfigureAwait(false);
            items.AddRange(options.Apply
                ? await SourcePrune.DeleteAsync(mirror.Writable, strays, problems, cancellationToken)
                    .ConfigureAwait(false)
                : strays.Select(s => s.Item));
            Phase("sources");
        }

        return new PruneResult(items, options.Apply,
            problems.OrderBy(p => p.Location, StringComparer.Ordinal).ToList(), indexed, clock.Elapsed)
        { Phases = phases };
    }

    private static async Task<List<PruneItem>> PlanAsync(CacheInventory inventory, PruneOptions options,
        ConcurrentBag<EntryProblem> problems, IProgress<OperationProgress>? progress,
        CancellationToken cancellationToken)
    {
        foreach (var problem in inventory.Problems)
        {
            problems.Add(problem);
        }

        var cutoff = inventory.ListedAt - (options.Grace ?? PruneOptions.DefaultGrace);
        var broken = await BrokenEntriesAsync(inventory, cutoff, cancellationToken).ConfigureAwait(false);
        var removed = new List<(PruneReason, string, StoreObject, IReadOnlyList<string>)>();
        EntryGraph? graph = null;
        if (options.HasRetention)
        {
            graph = await EntryGraph.LoadAsync(inventory, options.Parallelism, progress, cancellationToken)
                .ConfigureAwait(false);
        }

        foreach (var entry in broken)
        {
            removed.Add((PruneReason.BrokenEntry, graph?.Display(entry.Entry) ?? entry.Entry.DisplayName,
                entry.Listed, entry.Parts));
        }

        if (graph is not null)
        {
            foreach (var entry in Expired(inventory, graph, broken, options, problems))
            {
                removed.Add((PruneReason.Expired, graph.Display(entry.Entry), entry.Listed, entry.Parts));
            }
        }

        foreach (var key in inventory.UnlistedKeys.Where(k => CacheInventory.IsOlder(k.Listed, cutoff)))
        {
            removed.Add((PruneReason.UnlistedKey, key.Fingerprint, key.Listed, key.Parts));
        }

        var items = EntryRemoval.ItemsFor(inventory, removed, cutoff);
        items.AddRange(inventory.Unowned.Where(o => CacheInventory.IsOlder(o, cutoff)).OrderBy(o => o.Key,
            StringComparer.Ordinal).Select(o => Single(inventory, PruneReason.OrphanBlob, o)));
        items.AddRange(inventory.Temporaries.Where(o => CacheInventory.IsOlder(o, cutoff)).OrderBy(o => o.Key,
            StringComparer.Ordinal).Select(o => Single(inventory, PruneReason.Temporary, o)));
        return items;
    }

    private static PruneItem Single(CacheInventory inventory, PruneReason reason, StoreObject obj) =>
        new(reason, obj.Key, [obj.Key], obj.Length, inventory.Store.Describe(obj.Key));

    // Entries older than the grace period that name a missing object, looked at again now: a blob written since the
    // listing (a push in progress when it ran) makes the entry whole.
    private static async Task<List<InventoryEntry>> BrokenEntriesAsync(CacheInventory inventory,
        DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var broken = new List<InventoryEntry>();
        foreach (var entry in inventory.Entries.Where(e => e.Missing.Count > 0
            && CacheInventory.IsOlder(e.Listed, cutoff)))
        {
            var stillMissing = inventory.Layout.Version == 3
                ? await AnyMissingAsync(inventory.Store, entry.Missing, cancellationToken).ConfigureAwait(false)
                : await TarballMissingV2Async(inventory, entry, cancellationToken).ConfigureAwait(false);
            if (stillMissing)
            {
                broken.Add(entry);
            }
        }

        return broken;
    }

    private static async Task<bool> AnyMissingAsync(IStoreReader store, IEnumerable<string> keys,
        CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            if (await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is null)
            {
                return true;
            }
        }

        return false;
    }

    // A v2 spec file says where its tarball is (by its root node); one that cannot be read is not judged.
    private static async Task<bool> TarballMissingV2Async(CacheInventory inventory, InventoryEntry entry,
        CancellationToken cancellationToken)
    {
        try
        {
            var spec = await inventory.Layout.ReadSpecAsync(entry.Entry, cancellationToken).ConfigureAwait(false);
            return await inventory.Store.GetInfoAsync(BuildCacheV2.TarballKey(spec.Root), cancellationToken)
                .ConfigureAwait(false) is null;
        }
        catch (DepotException e) when (e.Kind.ConcernsOneEntry())
        {
            return false;
        }
    }

    // Entries the retention rules let go, less every link/run dependency of what stays and of kept hashes.
    private static List<InventoryEntry> Expired(CacheInventory inventory, EntryGraph graph,
        List<InventoryEntry> broken, PruneOptions options, ConcurrentBag<EntryProblem> problems)
    {
        if (graph.Unknown.Count > 0)
        {
            foreach (var problem in graph.Unknown)
            {
                problems.Add(problem with
                {
                    Message = problem.Message + " (its dependencies are unknown, so no entry expires this run)",
                });
            }

            return [];
        }

        var brokenKeys = broken.Select(b => b.Entry.Key).ToHashSet(StringComparer.Ordinal);
        var candidates = inventory.Entries.Where(e => !brokenKeys.Contains(e.Entry.Key)).ToList();
        var old = options.OlderThan is { } age
            ? candidates.Where(e => CacheInventory.IsOlder(e.Listed, inventory.ListedAt - age)).ToHashSet()
            : candidates.ToHashSet();
        var beyondLast = options.KeepLast is { } n ? BeyondLastVersions(candidates, graph, n) : candidates.ToHashSet();
        var expired = candidates.Where(e => old.Contains(e) && beyondLast.Contains(e)).ToList();
        var stays = candidates.Except(expired).Select(e => e.Entry.Hash).Concat(options.Keep ?? new HashSet<string>());
        var needed = graph.Closure(stays);
        return expired.Where(e => !needed.Contains(e.Entry.Hash)).ToList();
    }

    // Per package, the entries outside its N most recently pushed versions (a version's time: its newest entry's).
    private static HashSet<InventoryEntry> BeyondLastVersions(List<InventoryEntry> entries, EntryGraph graph, int n)
    {
        var beyond = new HashSet<InventoryEntry>();
        foreach (var package in entries.GroupBy(e => graph.Node(e.Entry.Hash)?.Name ?? e.Entry.Key))
        {
            var recent = package.GroupBy(e => graph.Node(e.Entry.Hash)?.Version ?? "")
                .OrderByDescending(v => v.Max(e => e.Listed.LastModified ?? DateTimeOffset.MaxValue))
                .Take(n).SelectMany(v => v).ToHashSet();
            beyond.UnionWith(package.Where(e => !recent.Contains(e)));
        }

        return beyond;
    }
}
