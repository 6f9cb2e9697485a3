using System.Collections.Concurrent;
using Depot.Catalog;
using Depot.Serving;

namespace Depot.Server;

/// <summary>
/// The catalog of every served cache: one <see cref="CacheCatalog"/> per cache, made on first use over the store the
/// cache already opened, and kept for the server's life (what it read stays in memory, keyed by the index checksum).
/// Trust for signature badges: the server's keyring plus the cache's <c>trusted_fingerprints</c>. A pull-through
/// cache shows its local part: what it holds now (fetched entries are added to its own index), not its upstreams'.
/// Registered as a singleton service; pages and the JSON API take it from there.
/// </summary>
public sealed class CatalogSources : IDisposable
{
    private readonly ServedCaches caches;
    private readonly Func<ServedCache, ICatalogSource> create;
    private readonly ConcurrentDictionary<string, Lazy<ICatalogSource>> made = new(StringComparer.Ordinal);

    /// <param name="caches">The served caches.</param>
    /// <param name="create">Makes a cache's catalog (null: a <see cref="CacheCatalog"/> over its store); tests give
    /// their own.</param>
    public CatalogSources(ServedCaches caches, Func<ServedCache, ICatalogSource>? create = null)
    {
        ArgumentNullException.ThrowIfNull(caches);
        this.caches = caches;
        this.create = create ?? (cache => CacheCatalog.Over(cache.Store, cache.Engine,
            new CatalogOptions(cache.Name, cache.Config.Public, cache.Config.TrustedFingerprints)));
    }

    /// <summary>Every cache's catalog, in configuration order (private ones too: callers filter by access).</summary>
    public IReadOnlyList<ICatalogSource> All => caches.All.Select(c => Of(c)).ToList();

    /// <summary>The catalog of the cache named <paramref name="name"/>, or null when no cache has that name.
    /// </summary>
    public ICatalogSource? Find(string name) => caches.Find(name) is { } cache ? Of(cache) : null;

    private ICatalogSource Of(ServedCache cache) =>
        made.GetOrAdd(cache.Name, _ => new Lazy<ICatalogSource>(() => create(cache))).Value;

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var catalog in made.Values.Where(l => l.IsValueCreated))
        {
            (catalog.Value as IDisposable)?.Dispose();
        }
    }
}
