using System.Collections.Concurrent;
using Depot.Sources;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// Prune's source-mirror half: objects under <c>_source-cache/</c> at keys Spack never writes and so never fetches
/// (strays: a leftover, a file copied to the wrong place, a half-written upload under a made-up name), older than the
/// grace period. Archives and checkouts at well-formed keys stay: no spec references a source, so retention rules do
/// not apply to them; <c>depot verify</c> checks archives against their names.
/// </summary>
internal static class SourcePrune
{
    /// <summary>The strays of the source mirror in <paramref name="store"/> listed before <paramref name="cutoff"/>.
    /// </summary>
    public static async Task<List<(PruneItem Item, StoreObject Listed)>> PlanAsync(IStoreLister store,
        DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var items = new List<(PruneItem Item, StoreObject Listed)>();
        await foreach (var source in SourceMirror.ListAsync(store, cancellationToken).ConfigureAwait(false))
        {
            if (!source.IsWellFormed && CacheInventory.IsOlder(source.Object, cutoff))
            {
                items.Add((new PruneItem(PruneReason.StraySource, source.Key, [source.Key], source.Object.Length,
                    store.Describe(source.Key)), source.Object));
            }
        }

        return items.OrderBy(i => i.Item.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Deletes the planned strays, each looked at again first: one written since the listing (another length or
    /// time) is left alone and reported.
    /// </summary>
    public static async Task<List<PruneItem>> DeleteAsync(IObjectStore store,
        IReadOnlyList<(PruneItem Item, StoreObject Listed)> plan, ConcurrentBag<EntryProblem> problems,
        CancellationToken cancellationToken)
    {
        var deleted = new List<PruneItem>();
        foreach (var (item, then) in plan)
        {
            var key = item.Keys[0];
            var now = await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false);
            if (now is null)
            {
                continue;
            }

            if (now.Length != then.Length || now.LastModified != then.LastModified)
            {
                problems.Add(new EntryProblem(item.Location, "written since the listing: left alone", ErrorKind.IO));
                continue;
            }

            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            deleted.Add(item);
        }

        return deleted;
    }
}
