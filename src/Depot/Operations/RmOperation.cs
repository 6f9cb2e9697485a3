using System.Collections.Concurrent;
using System.Diagnostics;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>Options of <see cref="RmOperation"/>.</summary>
/// <param name="Queries">The entries to remove; each must match exactly one spec (by hash) of the mirror.</param>
/// <param name="Force">Remove them even when an entry that stays depends on one (link/run).</param>
/// <param name="DryRun">Only say what would go.</param>
/// <param name="Parallelism">Reads and deletes in flight at once.</param>
/// <param name="Cache">Local listing summaries the index update keeps in step (null: none).</param>
public sealed record RmOptions(IReadOnlyList<SpecQuery> Queries, bool Force = false, bool DryRun = false,
    int Parallelism = 32, IndexCache? Cache = null);

/// <summary>
/// Removes named entries from every layout of a mirror: each entry's manifest or spec files, its tarball, and the
/// blobs no other manifest names (at once: rm does not wait out a grace period), then updates the index. Refuses,
/// removing nothing, when an entry that stays depends on one named (its link/run closure), unless forced.
/// </summary>
public static class RmOperation
{
    /// <exception cref="DepotException"><see cref="ErrorKind.NotFound"/>: a query matches no entry;
    /// <see cref="ErrorKind.Usage"/>: one matches several specs; <see cref="ErrorKind.Conflict"/>: a remaining entry
    /// depends on one (hint <see cref="HintAction.ForceRemoval"/>); <see cref="ErrorKind.Unsupported"/>: an OCI
    /// registry.</exception>
    public static async Task<PruneResult> RunAsync(Mirror mirror, RmOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentNullException.ThrowIfNull(options);
        _ = mirror.Writable;
        var clock = Stopwatch.StartNew();
        var layouts = new List<(CacheInventory Inventory, EntryGraph Graph)>();
        foreach (var layout in await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false))
        {
            var inventory = await CacheInventory.TakeAsync(layout, options.Parallelism, progress, cancellationToken)
                .ConfigureAwait(false);
            layouts.Add((inventory, await EntryGraph.LoadAsync(inventory, options.Parallelism, progress,
                cancellationToken).ConfigureAwait(false)));
        }

        var named = Resolve(layouts, options.Queries);
        var problems = new ConcurrentBag<EntryProblem>();
        var items = new List<PruneItem>();
        var indexed = new List<IndexResult>();
        foreach (var (inventory, graph) in layouts)
        {
            var removed = inventory.Entries.Where(e => named.Contains(e.Entry.Hash)).ToList();
            if (removed.Count == 0)
            {
                continue;
            }

            if (!options.Force)
            {
                CheckNoDependents(inventory, graph, named);
            }

            var plan = EntryRemoval.ItemsFor(inventory, removed.Select(e => (PruneReason.Removed,
                graph.Display(e.Entry), e.Listed, e.Parts)).ToList(), blobCutoff: null);
            if (options.DryRun)
            {
                items.AddRange(plan);
                continue;
            }

            var deleted = await EntryRemoval.DeleteAsync(inventory, plan, options.Parallelism, problems, progress,
                cancellationToken).ConfigureAwait(false);
            items.AddRange(deleted);
            if (deleted.Count > 0)
            {
                indexed.Add(await EntryRemoval.ReindexAsync(inventory.Layout, options.Cache, options.Parallelism,
                    progress, cancellationToken).ConfigureAwait(false));
            }
        }

        return new PruneResult(items, !options.DryRun, problems.OrderBy(p => p.Location, StringComparer.Ordinal)
            .ToList(), indexed, clock.Elapsed);
    }

    // Each query to the one hash it names, across layouts (a spec held in v2 and v3 is one spec).
    private static HashSet<string> Resolve(List<(CacheInventory Inventory, EntryGraph Graph)> layouts,
        IReadOnlyList<SpecQuery> queries)
    {
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var query in queries)
        {
            var matches = layouts.SelectMany(l => l.Inventory.Entries.Select(e => (e.Entry, l.Graph)))
                .Where(m => m.Graph.Node(m.Entry.Hash) is { } node ? query.Matches(node)
                    : query.HashPrefix is { } prefix && m.Entry.Hash.StartsWith(prefix, StringComparison.Ordinal))
                .GroupBy(m => m.Entry.Hash).ToList();
            if (matches.Count == 0)
            {
                throw new DepotException(ErrorKind.NotFound, $"no entry matches {query.Text}");
            }

            if (matches.Count > 1)
            {
                var names = matches.Take(5).Select(g => g.First().Graph.Display(g.First().Entry));
                throw new DepotException(ErrorKind.Usage, $"{query.Text} matches {matches.Count} entries ("
                    + string.Join(", ", names) + (matches.Count > 5 ? ", …" : "") + "); name one by /hash");
            }

            hashes.Add(matches[0].Key);
        }

        return hashes;
    }

    private static void CheckNoDependents(CacheInventory inventory, EntryGraph graph, HashSet<string> named)
    {
        foreach (var staying in inventory.Entries.Where(e => !named.Contains(e.Entry.Hash)))
        {
            var needed = graph.Closure([staying.Entry.Hash]);
            if (inventory.Entries.FirstOrDefault(e => named.Contains(e.Entry.Hash) && needed.Contains(e.Entry.Hash))
                is { } entry)
            {
                throw new DepotException(ErrorKind.Conflict,
                    $"{graph.Display(entry.Entry)} is not removed: {graph.Display(staying.Entry)}, which stays in "
                    + $"{inventory.Store.Root}, depends on it (link/run)", new ErrorHint(HintAction.ForceRemoval));
            }
        }
    }
}
