using System.Collections.Concurrent;
using Depot.Layout;
using Depot.Operations;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Catalog;

/// <summary>
/// What the catalog knows of one cache at one index checksum: its rows (from the index summary), and, made on first
/// use and then kept, its full nodes (dependencies, dependents), one store listing (entry times, total bytes), its
/// keys and trust, and the spec pages' facts. A new checksum makes a new state; nothing here is ever refreshed.
/// </summary>
internal sealed class CatalogState
{
    private const int MaxDetails = 4096;
    private readonly ConcurrentDictionary<string, SharedTask<SpecFacts?>> details = new(StringComparer.Ordinal);

    public CatalogState(string key, CatalogRows rows, Mirror mirror, IReadOnlyList<IBuildCacheLayout> layouts,
        string keysFolder, IReadOnlyCollection<string> extraTrusted)
    {
        Key = key;
        Rows = rows;
        Mirror = mirror;
        Layouts = layouts;
        Nodes = new SharedTask<NodeTable>(ct => NodeTable.ReadAsync(mirror, ct));
        Listing = new SharedTask<StoreListing>(ct => StoreListing.ReadAsync(mirror.Store, layouts, ct));
        Trust = new SharedTask<CatalogTrust>(ct => CatalogTrust.LoadAsync(keysFolder, layouts, extraTrusted, ct));
    }

    /// <summary>The layout checksums this state was made for.</summary>
    public string Key { get; }

    public CatalogRows Rows { get; }

    public Mirror Mirror { get; }

    public IReadOnlyList<IBuildCacheLayout> Layouts { get; }

    public SharedTask<NodeTable> Nodes { get; }

    public SharedTask<StoreListing> Listing { get; }

    public SharedTask<CatalogTrust> Trust { get; }

    /// <summary>The spec page's facts of <paramref name="hash"/> (read once, then kept), or null when not cached.
    /// </summary>
    public Task<SpecFacts?> DetailAsync(string hash, CancellationToken cancellationToken)
    {
        if (Rows.Find(hash) is null)
        {
            return Task.FromResult<SpecFacts?>(null);
        }

        if (details.Count >= MaxDetails)
        {
            details.Clear(); // a crawler walking every spec must not hold them all
        }

        return details.GetOrAdd(hash, h => new SharedTask<SpecFacts?>(ct => SpecFacts.ReadAsync(this, h, ct)))
            .GetAsync(cancellationToken);
    }
}

/// <summary>Every cached spec's full node, and who depends on whom (made from the index's nodes).</summary>
internal sealed class NodeTable
{
    private NodeTable(Dictionary<string, CachedSpec> byHash,
        Dictionary<string, List<(string Hash, DepTypes Types)>> dependents)
    {
        ByHash = byHash;
        Dependents = dependents;
    }

    public Dictionary<string, CachedSpec> ByHash { get; }

    /// <summary>For a hash: the cached specs that depend on it directly, with the edge's types.</summary>
    public Dictionary<string, List<(string Hash, DepTypes Types)>> Dependents { get; }

    public static async Task<NodeTable> ReadAsync(Mirror mirror, CancellationToken cancellationToken)
    {
        var listed = await ListOperation.RunAsync(mirror, new ListOptions([], NeedNodes: true),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var byHash = listed.Specs.ToDictionary(s => s.Spec.Hash, StringComparer.Ordinal);
        var dependents = new Dictionary<string, List<(string Hash, DepTypes Types)>>(StringComparer.Ordinal);
        foreach (var spec in listed.Specs)
        {
            foreach (var edge in spec.Spec.Dependencies)
            {
                if (!dependents.TryGetValue(edge.Hash, out var list))
                {
                    dependents[edge.Hash] = list = [];
                }

                list.Add((spec.Spec.Hash, edge.Types));
            }
        }

        return new NodeTable(byHash, dependents);
    }
}

/// <summary>
/// One listing of the whole store: the total bytes of its objects and each entry's modification time (what the
/// activity list and the last push come from). A store that cannot list (plain HTTP) gives no total, and the index's
/// own time as the last push.
/// </summary>
internal sealed record StoreListing(long? TotalBytes, IReadOnlyDictionary<string, DateTimeOffset> EntryTimes,
    DateTimeOffset? LastPush)
{
    public static async Task<StoreListing> ReadAsync(IStoreReader store, IReadOnlyList<IBuildCacheLayout> layouts,
        CancellationToken cancellationToken)
    {
        if (store is not IStoreLister lister)
        {
            DateTimeOffset? newest = null;
            foreach (var layout in layouts)
            {
                if ((await store.GetInfoAsync(layout.IndexKey, cancellationToken).ConfigureAwait(false))?.LastModified
                    is { } time && (newest is null || time > newest))
                {
                    newest = time;
                }
            }

            return new StoreListing(null, new Dictionary<string, DateTimeOffset>(), newest);
        }

        long total = 0;
        var times = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await foreach (var obj in lister.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            total += obj.Length;
            if (obj.LastModified is { } time && EntryHash(obj.Key) is { } hash
                && (!times.TryGetValue(hash, out var known) || time > known))
            {
                times[hash] = time;
            }
        }

        return new StoreListing(total, times, times.Count == 0 ? null : times.Values.Max());
    }

    // The hash of a v3 spec manifest or a v2 spec file, from its key; null for any other object.
    private static string? EntryHash(string key)
    {
        var isEntry = (key.StartsWith(BuildCacheV3.SpecManifestPrefix, StringComparison.Ordinal)
                && key.EndsWith(BuildCacheV3.SpecManifestSuffix, StringComparison.Ordinal))
            || (key.StartsWith(BuildCacheV2.Prefix, StringComparison.Ordinal)
                && key.IndexOf('/', BuildCacheV2.Prefix.Length) < 0
                && (key.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal)
                    || key.EndsWith(BuildCacheV2.PlainSuffix, StringComparison.Ordinal)));
        return isEntry ? PathNames.HashFromEntryName(key[(key.LastIndexOf('/') + 1)..]) : null;
    }
}
