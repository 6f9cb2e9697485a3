using System.Collections.Concurrent;
using Depot.Layout;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// The removal logic prune and rm share: what an entry owns once some entries go (its manifest or spec files, its
/// tarball, and the v3 blobs no manifest that stays names), and deleting planned items safely. Each item's first
/// object is looked at again just before it goes: one written or replaced since the listing is left alone (a push
/// got there), so only what the plan saw is ever deleted. An entry's manifest or spec file goes before its blobs, so a
/// reader never finds an entry without its content.
/// </summary>
internal static class EntryRemoval
{
    /// <summary>
    /// Items for <paramref name="removed"/> (entries and unlisted keys, with a reason and a name each): each with its
    /// own objects and the blobs freed by removing them all, those not older than <paramref name="blobCutoff"/> kept
    /// (null: any age).
    /// </summary>
    public static List<PruneItem> ItemsFor(CacheInventory inventory,
        IReadOnlyList<(PruneReason Reason, string Name, StoreObject Listed, IReadOnlyList<string> Parts)> removed,
        DateTimeOffset? blobCutoff)
    {
        // v3 blobs can be shared: one is freed when every manifest naming it goes. v2 parts are the entry's alone.
        var namedByRemoved = new Dictionary<string, int>(StringComparer.Ordinal);
        if (inventory.Layout.Version == 3)
        {
            foreach (var part in removed.SelectMany(r => r.Parts.Distinct(StringComparer.Ordinal)))
            {
                namedByRemoved[part] = namedByRemoved.GetValueOrDefault(part) + 1;
            }
        }

        var taken = new HashSet<string>(StringComparer.Ordinal);
        var items = new List<PruneItem>();
        foreach (var (reason, name, listed, parts) in removed)
        {
            var keys = new List<string> { listed.Key };
            foreach (var part in parts)
            {
                // A manifest that could not be read may name any blob: then none is freed.
                var freed = inventory.Problems.Count == 0 && inventory.Objects.TryGetValue(part, out var obj)
                    && taken.Add(part)
                    && (inventory.Layout.Version != 3
                        || namedByRemoved.GetValueOrDefault(part) >= inventory.References.GetValueOrDefault(part))
                    && (blobCutoff is not { } cutoff || CacheInventory.IsOlder(obj, cutoff));
                if (freed)
                {
                    keys.Add(part);
                }
            }

            items.Add(new PruneItem(reason, name, keys, keys.Sum(inventory.SizeOf),
                inventory.Store.Describe(listed.Key)));
        }

        return items;
    }

    /// <summary>
    /// Deletes <paramref name="items"/>: entries and keys first (each's first object re-checked, then the rest), then
    /// the single objects. Returns the items deleted; what was left alone or failed is added to
    /// <paramref name="problems"/>.
    /// </summary>
    public static async Task<List<PruneItem>> DeleteAsync(CacheInventory inventory, IReadOnlyList<PruneItem> items,
        int parallelism, ConcurrentBag<EntryProblem> problems, IProgress<OperationProgress>? progress,
        CancellationToken cancellationToken)
    {
        var deleted = new ConcurrentBag<(int Order, PruneItem Item)>();
        var done = 0;
        var ordered = items.Select((item, i) => (Item: item, Order: i)).ToList();
        // Entries (several objects) before single objects: a blob an entry item frees is never orphaned mid-run.
        foreach (var round in ordered.GroupBy(o => IsEntry(o.Item.Reason)).OrderByDescending(g => g.Key))
        {
            await Parallel.ForEachAsync(round,
                new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
                async (o, ct) =>
                {
                    if (await DeleteItemAsync(inventory, o.Item, problems, ct).ConfigureAwait(false))
                    {
                        deleted.Add((o.Order, o.Item));
                    }

                    progress?.Report(new OperationProgress("delete", Interlocked.Increment(ref done), items.Count));
                }).ConfigureAwait(false);
        }

        return deleted.OrderBy(d => d.Order).Select(d => d.Item).ToList();
    }

    // Listings and HEAD requests may not give a time at the same precision (S3: milliseconds, then seconds).
    private static bool Changed(StoreObject listed, StoreObject now) =>
        now.Length != listed.Length || now.LastModified is not { } time || listed.LastModified is not { } before
        || (time - before).Duration() > TimeSpan.FromSeconds(1);

    private static bool IsEntry(PruneReason reason) =>
        reason is PruneReason.BrokenEntry or PruneReason.Expired or PruneReason.Removed or PruneReason.UnlistedKey;

    private static async Task<bool> DeleteItemAsync(CacheInventory inventory, PruneItem item,
        ConcurrentBag<EntryProblem> problems, CancellationToken cancellationToken)
    {
        var first = item.Keys[0];
        var listed = inventory.Objects.GetValueOrDefault(first)
            ?? inventory.Temporaries.FirstOrDefault(t => t.Key == first);
        try
        {
            var now = await inventory.Store.GetInfoAsync(first, cancellationToken).ConfigureAwait(false);
            if (now is null)
            {
                return false; // gone already (another prune or rm)
            }

            if (listed is null || Changed(listed, now))
            {
                problems.Add(new EntryProblem(item.Location,
                    $"{item.Location}: written again since it was listed; left alone", ErrorKind.Conflict));
                return false;
            }

            foreach (var key in item.Keys)
            {
                await inventory.Store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        catch (DepotException e) when (e.Kind.ConcernsOneEntry())
        {
            problems.Add(new EntryProblem(item.Location, $"{item.Name}: not removed: {e.Message}", e.Kind, e.Hint));
            return false;
        }
    }

    /// <summary>
    /// The race a grace period cannot close: a push that found a blob present (so did not upload it) and wrote its
    /// manifest after the listing, naming a blob this run deleted. Such manifests are reported, never repaired (the
    /// push has the content; pushing again restores it).
    /// </summary>
    public static async Task CheckNewManifestsAsync(CacheInventory inventory, IReadOnlyList<PruneItem> deleted,
        ConcurrentBag<EntryProblem> problems, CancellationToken cancellationToken)
    {
        var gone = deleted.SelectMany(i => i.Keys).Where(k => k.StartsWith("blobs/", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        if (inventory.Layout.Version != 3 || gone.Count == 0)
        {
            return;
        }

        await foreach (var obj in inventory.Store.ListAsync(BuildCacheV3.SpecManifestPrefix, cancellationToken)
            .ConfigureAwait(false))
        {
            if (inventory.Objects.TryGetValue(obj.Key, out var listed) && !Changed(listed, obj))
            {
                continue;
            }

            var location = inventory.Store.Describe(obj.Key);
            try
            {
                var manifest = BuildCacheManifest.Parse(await inventory.Store.ReadAllBytesAsync(obj.Key, 1 << 20,
                    cancellationToken).ConfigureAwait(false), location);
                if (manifest.Records.FirstOrDefault(r => gone.Contains(r.BlobKey)) is { } record)
                {
                    problems.Add(new EntryProblem(location,
                        $"{location}: written during the prune, names blob {record.Checksum[..12]}… which the prune "
                        + "removed; push this spec again", ErrorKind.Conflict));
                }
            }
            catch (DepotException e) when (e.Kind.ConcernsOneEntry())
            {
                // unreadable or gone again: not this run's doing
            }
        }
    }

    /// <summary>Updates the index of <paramref name="layout"/> after entries went (incremental: gone entries drop
    /// out).</summary>
    public static Task<IndexResult> ReindexAsync(IBuildCacheLayout layout, IndexCache? cache, int parallelism,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken) =>
        IndexOperation.IndexLayoutAsync(layout, new IndexOptions(Parallelism: Math.Min(parallelism, 16),
            Cache: cache), progress, cancellationToken);
}
