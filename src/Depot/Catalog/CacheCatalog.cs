using Depot.Layout;
using Depot.Operations;
using Depot.Storage;

namespace Depot.Catalog;

/// <summary>How a <see cref="CacheCatalog"/> shows its cache.</summary>
/// <param name="Name">The cache's name (its path segment on a server, the export's name).</param>
/// <param name="IsPublic">Whether anonymous visitors may see it.</param>
/// <param name="ExtraTrustedFingerprints">Keys trusted besides the Depot home's keyring (a served cache's
/// <c>trusted_fingerprints</c>), taken from the cache's published keys.</param>
/// <param name="RecheckInterval">How long what was read stands before the index checksum is read again (5 s).</param>
/// <param name="Clock">The clock of that interval (tests move it).</param>
public sealed record CatalogOptions(string Name, bool IsPublic, IReadOnlyList<string>? ExtraTrustedFingerprints = null,
    TimeSpan? RecheckInterval = null, TimeProvider? Clock = null);

/// <summary>
/// <see cref="ICatalogSource"/> over one build cache (a <see cref="Mirror"/> opened for reading). Its rows come from
/// the index summary Depot keeps (<see cref="ListOperation"/> with the <see cref="IndexCache"/>: a small file instead
/// of the index, once the index has been seen), held in memory keyed by the layouts' index checksums. At most every
/// <see cref="CatalogOptions.RecheckInterval"/> a request reads the checksums again (the v3 index manifest, v2's
/// <c>index.json.hash</c>: small objects, never the index) and a change makes a new state; a cache without an index
/// is scanned again at most every minute. Everything else (full nodes, one store listing, keys, spec pages) is read
/// on first use and kept with the state. Searches run in memory (<see cref="CatalogRows"/>).
/// </summary>
/// <remarks>
/// Made once per cache and kept for the server's life (or the export's run); safe for concurrent requests. A mirror
/// that held no build cache is detected again at the next recheck, so a first push shows.
/// </remarks>
public sealed class CacheCatalog : ICatalogSource, IDisposable
{
    private static readonly TimeSpan NoIndexInterval = TimeSpan.FromMinutes(1);
    private readonly IStoreReader store;
    private readonly string keysFolder;
    private readonly IndexCache? indexCache;
    private readonly IReadOnlyCollection<string> extraTrusted;
    private readonly TimeSpan interval;
    private readonly TimeProvider clock;
    private readonly SemaphoreSlim gate = new(1, 1);
    private Mirror mirror;
    private CatalogState? state;
    private DateTimeOffset checkedAt;

    /// <summary>A catalog of <paramref name="mirror"/> (opened for reading); trust from the keyring in
    /// <paramref name="keysFolder"/>; summaries in <paramref name="indexCache"/> (null: the index is read).</summary>
    public CacheCatalog(Mirror mirror, string keysFolder, IndexCache? indexCache, CatalogOptions options)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentNullException.ThrowIfNull(keysFolder);
        ArgumentNullException.ThrowIfNull(options);
        this.mirror = mirror;
        store = mirror.Store;
        this.keysFolder = keysFolder;
        this.indexCache = indexCache;
        Name = options.Name;
        IsPublic = options.IsPublic;
        extraTrusted = options.ExtraTrustedFingerprints ?? [];
        interval = options.RecheckInterval ?? TimeSpan.FromSeconds(5);
        clock = options.Clock ?? TimeProvider.System;
    }

    /// <summary>
    /// The factory the server and the static export share: opens <paramref name="mirrorNameOrUrl"/> for reading
    /// through <paramref name="engine"/> (its configuration and credentials), trusts the engine's keyring plus
    /// <paramref name="extraTrustedFingerprints"/>, keeps summaries in the engine's index cache.
    /// </summary>
    /// <exception cref="DepotException">The mirror cannot be opened (unknown name, bad URL).</exception>
    public static CacheCatalog Open(EngineContext engine, string name, bool isPublic, string mirrorNameOrUrl,
        IReadOnlyList<string> extraTrustedFingerprints)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return new CacheCatalog(engine.Open(mirrorNameOrUrl, MirrorPurpose.Read), engine.Home.KeysFolder,
            engine.IndexCache, new CatalogOptions(name, isPublic, extraTrustedFingerprints));
    }

    /// <summary>
    /// A catalog of a store already open (a served cache's), as <see cref="Open"/> would make it.
    /// </summary>
    public static CacheCatalog Over(IStoreReader store, EngineContext engine, CatalogOptions options)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        return new CacheCatalog(Mirror.Of(store, name: options.Name), engine.Home.KeysFolder, engine.IndexCache,
            options);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public bool IsPublic { get; }

    /// <inheritdoc/>
    public async Task<CacheSummary> GetSummaryAsync(CancellationToken cancellationToken = default)
    {
        var current = await StateAsync(cancellationToken).ConfigureAwait(false);
        var listing = await current.Listing.GetAsync(cancellationToken).ConfigureAwait(false);
        return new CacheSummary(Name, IsPublic, current.Rows.Count, current.Rows.Packages.Count, listing.TotalBytes,
            listing.LastPush, current.Rows.Layouts);
    }

    /// <inheritdoc/>
    public async Task<SearchResult> SearchAsync(CatalogQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return (await StateAsync(cancellationToken).ConfigureAwait(false)).Rows.Search(query);
    }

    /// <inheritdoc/>
    public async Task<PackageListing> GetPackagesAsync(int offset, int limit,
        CancellationToken cancellationToken = default)
    {
        var packages = (await StateAsync(cancellationToken).ConfigureAwait(false)).Rows.Packages;
        return new PackageListing(packages.Count,
            packages.Skip(Math.Max(0, offset)).Take(Math.Max(0, limit)).ToList());
    }

    /// <inheritdoc/>
    public async Task<PackageDetail?> GetPackageAsync(string name, CancellationToken cancellationToken = default)
    {
        var rows = (await StateAsync(cancellationToken).ConfigureAwait(false)).Rows.Package(name);
        return rows is null ? null : new PackageDetail(name, rows);
    }

    /// <inheritdoc/>
    public async Task<SpecDetail?> GetSpecAsync(string hash, string mirrorUrl,
        CancellationToken cancellationToken = default)
    {
        var facts = await GetSpecFactsAsync(hash, cancellationToken).ConfigureAwait(false);
        return facts?.ToDetail(Name, mirrorUrl);
    }

    /// <summary>The spec's facts and its index node (for <see cref="CatalogJson"/>), or null.</summary>
    internal async Task<SpecFacts?> GetSpecFactsAsync(string hash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hash);
        var current = await StateAsync(cancellationToken).ConfigureAwait(false);
        return await current.DetailAsync(hash, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<CatalogKey>> GetKeysAsync(CancellationToken cancellationToken = default)
    {
        var current = await StateAsync(cancellationToken).ConfigureAwait(false);
        return (await current.Trust.GetAsync(cancellationToken).ConfigureAwait(false)).Keys;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<PushActivity>> GetActivityAsync(int limit,
        CancellationToken cancellationToken = default)
    {
        var current = await StateAsync(cancellationToken).ConfigureAwait(false);
        var listing = await current.Listing.GetAsync(cancellationToken).ConfigureAwait(false);
        return listing.EntryTimes
            .Select(t => current.Rows.Find(t.Key) is { } row ? new PushActivity(row.Hash, row.Name, row.Version,
                t.Value) : null)
            .OfType<PushActivity>()
            .OrderByDescending(a => a.PushedAt).ThenBy(a => a.Hash, StringComparer.Ordinal)
            .Take(Math.Max(0, limit))
            .ToList();
    }

    /// <inheritdoc/>
    public void Dispose() => gate.Dispose();

    private async Task<CatalogState> StateAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref state);
        if (current is not null && clock.GetUtcNow() - checkedAt < interval)
        {
            return current;
        }

        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = state;
            var now = clock.GetUtcNow();
            if (current is not null && now - checkedAt < interval)
            {
                return current;
            }

            var (key, layouts) = await KeyAsync(now, cancellationToken).ConfigureAwait(false);
            if (current is null || current.Key != key)
            {
                current = await BuildAsync(key, layouts, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref state, current);
            }

            checkedAt = now;
            return current;
        }
        finally
        {
            gate.Release();
        }
    }

    // The layouts' index checksums, e.g. "v3:32be…|v2:none@29467812" (no index: rescanned each NoIndexInterval).
    private async Task<(string Key, IReadOnlyList<IBuildCacheLayout> Layouts)> KeyAsync(DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<IBuildCacheLayout> layouts;
        try
        {
            layouts = await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NoBuildCacheException)
        {
            mirror = Mirror.Of(store, name: mirror.Name); // detected again next time: a first push shows
            return ("empty", []);
        }

        var parts = new List<string>();
        foreach (var layout in layouts)
        {
            string? checksum;
            try
            {
                checksum = await layout.ReadIndexChecksumAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidContentException)
            {
                checksum = null; // listing reports it and scans
            }

            parts.Add($"v{layout.Version}:" + (checksum ?? "none@" + now.Ticks / NoIndexInterval.Ticks));
        }

        return (string.Join('|', parts), layouts);
    }

    private async Task<CatalogState> BuildAsync(string key, IReadOnlyList<IBuildCacheLayout> layouts,
        CancellationToken cancellationToken)
    {
        if (layouts.Count == 0)
        {
            return new CatalogState(key, CatalogRows.Empty, mirror, layouts, keysFolder, extraTrusted);
        }

        var listed = await ListOperation.RunAsync(mirror, new ListOptions([], Cache: indexCache),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var built = new CatalogState(key, CatalogRows.From(listed.Rows), mirror, layouts, keysFolder, extraTrusted);

        // Started now, awaited by whoever needs them: the store listing (seconds for 60,000 objects) and the full
        // nodes (the index parsed) are then usually ready when the first page asks. A failure is retried on use.
        _ = built.Listing.GetAsync(CancellationToken.None);
        _ = built.Nodes.GetAsync(CancellationToken.None);
        return built;
    }
}
