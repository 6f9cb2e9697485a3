using System.Collections.Concurrent;
using System.Security.Cryptography;
using Depot.Operations;
using Depot.Storage;

namespace Depot.Serving;

/// <summary>
/// One cache as a running server holds it: its configuration and its store, opened once (store clients are costly to
/// make and safe to share between requests).
/// </summary>
public sealed class ServedCache
{
    private readonly Lazy<CacheWrites> writes;

    internal ServedCache(ServedCacheConfig config, IStoreReader store, EngineContext engine, ServeLimits limits,
        PullThrough? pullThrough)
    {
        PullThrough = pullThrough;
        Config = config;
        Store = store;
        Engine = engine;
        writes = new Lazy<CacheWrites>(() => new CacheWrites(config, engine, limits.MaxBodyBytes));
    }

    /// <summary>
    /// The write side (uploads, commits, index updates), made on first use; its store is opened through the push
    /// connection then. Callers refuse writes to a read-only cache before asking.
    /// </summary>
    public CacheWrites Writes => writes.Value;

    /// <summary>The cache's configuration.</summary>
    public ServedCacheConfig Config { get; }

    /// <summary>The name in URLs.</summary>
    public string Name => Config.Name;

    /// <summary>The store behind the cache, opened through its read (fetch) connection.</summary>
    public IStoreReader Store { get; }

    /// <summary>Fetches misses from the cache's upstreams; null when it names none.</summary>
    public PullThrough? PullThrough { get; }

    /// <summary>The engine the cache's mirror was opened with (keyring, configured mirrors).</summary>
    public EngineContext Engine { get; }

    /// <summary>
    /// The object at <paramref name="key"/>: its size, time and version, or null when there is none.
    /// </summary>
    /// <exception cref="DepotException">A malformed key (usage), or the store cannot be reached.</exception>
    public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken) =>
        Store.GetInfoAsync(StoreKeys.Check(key, Name), cancellationToken);

    /// <summary>
    /// Opens <paramref name="length"/> bytes (null: to the end) of <paramref name="key"/> from
    /// <paramref name="offset"/>, streamed from the store: the store's ranged read, which asks the service for just
    /// those bytes where it can.
    /// </summary>
    /// <exception cref="StoreObjectNotFoundException">No object has that key.</exception>
    /// <exception cref="RangeNotSatisfiableException">The object is now shorter than the offset.</exception>
    public Task<Stream> OpenReadAsync(string key, long offset, long? length, CancellationToken cancellationToken) =>
        Store.OpenReadRangeAsync(StoreKeys.Check(key, Name), offset, length, cancellationToken);

    /// <summary>Objects larger than this get no content digest (hashing them on a change would cost too much).
    /// </summary>
    public const long MaxDigestBytes = 64L << 20;

    private readonly ConcurrentDictionary<string, (StoreObject Info, string Digest)> digests =
        new(StringComparer.Ordinal);

    /// <summary>
    /// The sha256 (lowercase hex) of the bytes of <paramref name="key"/> as <paramref name="info"/> describes them, or
    /// null when it is larger than <see cref="MaxDigestBytes"/>. Why: an index's ETag must not change when the index is
    /// rewritten unchanged (as S3's, an MD5 of the bytes, does not). Spack 0.21 and 1.x name their cached copy of an
    /// index after its content hash and delete the old copy after storing the new one; a new ETag over the same
    /// bytes makes them delete the copy just stored, and every later Spack command fails until `spack clean -m`.
    /// Read once per store version of the object, then remembered.
    /// </summary>
    /// <exception cref="StoreObjectNotFoundException">The object went away.</exception>
    public async Task<string?> ContentDigestAsync(string key, StoreObject info, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.Length > MaxDigestBytes)
        {
            return null;
        }

        if (digests.TryGetValue(key, out var known) && known.Info == info)
        {
            return known.Digest;
        }

        string digest;
        var stream = await OpenReadAsync(key, 0, null, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            digest = Convert.ToHexStringLower(
                await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }

        // Remembered only when the object did not change while it was read (else the next request reads it again).
        if (await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) == info)
        {
            digests[key] = (info, digest);
        }

        return digest;
    }

    /// <summary>True when the store answers (a missing object counts as an answer).</summary>
    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Store.GetInfoAsync("v3/layout.json", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException && ErrorKinds.Of(e) is not null)
        {
            return false;
        }
    }
}

/// <summary>Every cache one server serves, opened once at start.</summary>
public sealed class ServedCaches
{
    private readonly Dictionary<string, ServedCache> byName;

    private ServedCaches(ServeConfig config, List<ServedCache> caches)
    {
        Config = config;
        All = caches;
        byName = caches.ToDictionary(c => c.Name, StringComparer.Ordinal);
    }

    /// <summary>The configuration served.</summary>
    public ServeConfig Config { get; }

    /// <summary>The caches, in configuration order.</summary>
    public IReadOnlyList<ServedCache> All { get; }

    /// <summary>Opens every cache's store through <paramref name="engine"/> (no request is sent yet).</summary>
    /// <exception cref="DepotException">A mirror cannot be opened (unknown name, bad URL, missing variable).
    /// </exception>
    public static ServedCaches Open(EngineContext engine, ServeConfig config)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(config);
        var caches = new List<ServedCache>();
        foreach (var cache in config.Caches)
        {
            var store = engine.Open(cache.Mirror, MirrorPurpose.Read).Store;
            if (Layout.Detection.BuildCache.HoldsOciLayout(store))
            {
                // Spack reads a registry's one-image-per-spec layout from the registry itself; served as files it
                // would be neither v3 nor v2.
                throw new DepotException(ErrorKind.Unsupported, $"cache {cache.Name}: {cache.Mirror} is an OCI"
                    + " registry: Spack reads its OCI layout from the registry itself; to serve its entries over HTTP,"
                    + " copy them into a directory or bucket and serve that");
            }

            caches.Add(new ServedCache(cache, store, engine, config.Limits, PullThrough.Create(cache, engine)));
        }

        return new ServedCaches(config, caches);
    }

    /// <summary>The cache named <paramref name="name"/>, or null.</summary>
    public ServedCache? Find(string name) => byName.GetValueOrDefault(name);
}
