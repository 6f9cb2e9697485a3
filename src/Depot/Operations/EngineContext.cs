using Depot.Configuration;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Storage;
using Depot.Storage.Providers;

namespace Depot.Operations;

/// <summary>
/// One request to open a store: the mirror's name or URL, the purpose, and where HTTP index copies go.
/// </summary>
/// <param name="Registry">The configured mirrors (loaded once per <see cref="EngineContext"/>).</param>
/// <param name="NameOrUrl">A configured name (Depot's or Spack's), or a path or URL.</param>
/// <param name="Purpose">Read (fetch connection) or write (push connection).</param>
/// <param name="HttpCache">Folder for HTTP index copies (<c>$DEPOT_HOME/cache/http</c>).</param>
public sealed record StoreRequest(MirrorRegistry Registry, string NameOrUrl, MirrorPurpose Purpose, string HttpCache);

/// <summary>
/// How the engine reaches mirrors: load the configuration, open a store, detect its layouts. Hosts take
/// <see cref="Default"/>. The storage providers a host registers (by URL scheme) plug in at <see cref="OpenStore"/>;
/// tests wrap a member to count calls or inject faults.
/// </summary>
public sealed record MirrorAccess
{
    /// <summary>
    /// The engine's own: <see cref="MirrorRegistry.Load(DepotHome, StoreProviders, bool)"/>,
    /// <see cref="MirrorRegistry.Open"/>,
    /// <see cref="BuildCache.DetectAsync"/>.
    /// </summary>
    public static MirrorAccess Default { get; } = new();

    /// <summary>
    /// Loads Depot's and Spack's mirror configuration (called at most once per <see cref="EngineContext"/>).
    /// </summary>
    public Func<DepotHome, StoreProviders, MirrorRegistry> LoadRegistry { get; init; } =
        (home, providers) => MirrorRegistry.Load(home, providers);

    /// <summary>
    /// Opens the store of one mirror with the credentials configured for the purpose's connection (called once per
    /// <see cref="Mirror"/>). Store providers registered by the host will be consulted here.
    /// </summary>
    public Func<StoreRequest, IStoreReader> OpenStore { get; init; } =
        request => request.Registry.Open(request.NameOrUrl, request.Purpose == MirrorPurpose.Write, request.HttpCache);

    /// <summary>Finds the layouts a store holds (called at most once per <see cref="Mirror"/>).</summary>
    public Func<IStoreReader, CancellationToken, Task<IReadOnlyList<IBuildCacheLayout>>> DetectLayouts { get; init; } =
        BuildCache.DetectAsync;
}

/// <summary>
/// The engine as one host sees it: Depot's home, its mirror configuration (loaded once, on first use), and the one way
/// to open a mirror (<see cref="OpenForRead"/>, <see cref="OpenForWrite"/>, <see cref="Open"/>). A host builds one per
/// command (the CLI) or per configuration (a server) and hands the resulting <see cref="Mirror"/>s to operations; it
/// never assembles stores, trust policies, layouts or signing keys itself.
/// </summary>
public sealed class EngineContext
{
    private readonly Lock gate = new();
    private MirrorRegistry? registry;

    /// <summary>
    /// An engine on <paramref name="home"/> that opens mirrors with the store providers the host ships
    /// (<paramref name="providers"/>); <paramref name="access"/> defaults to <see cref="MirrorAccess.Default"/>.
    /// </summary>
    public EngineContext(DepotHome home, StoreProviders providers, MirrorAccess? access = null)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(providers);
        Home = home;
        Providers = providers;
        Access = access ?? MirrorAccess.Default;
        IndexCache = IndexCache.For(home);
    }

    /// <summary>Depot's home: keyring, <c>config.yaml</c>, caches.</summary>
    public DepotHome Home { get; }

    /// <summary>The store providers (by URL scheme) the host registered.</summary>
    public StoreProviders Providers { get; }

    /// <summary>How mirrors are reached (configuration, stores, layout detection).</summary>
    public MirrorAccess Access { get; }

    /// <summary>Local summaries and record tables of mirrors' indexes (<c>$DEPOT_HOME/cache/indexes</c>).</summary>
    public IndexCache IndexCache { get; }

    /// <summary>Depot's mirrors, then Spack's: loaded on first use, once.</summary>
    /// <exception cref="DepotException">A configuration file cannot be read.</exception>
    public MirrorRegistry Registry
    {
        get
        {
            lock (gate)
            {
                return registry ??= Access.LoadRegistry(Home, Providers);
            }
        }
    }

    /// <summary>
    /// Opens a mirror to read verified entries: its fetch connection, and a trust policy built on first use from the
    /// keyring and the mirror's configuration (pinned fingerprints, <c>signed</c>), or none for
    /// <paramref name="noVerify"/>.
    /// </summary>
    /// <exception cref="DepotException">A variable the configuration names is not set, or the URL is unusable.
    /// </exception>
    public Mirror OpenForRead(string nameOrUrl, bool noVerify = false) =>
        Create(nameOrUrl, MirrorPurpose.Read, (mirror, token) => MirrorTrust.CreateAsync(Home, mirror, noVerify, token),
            SigningChoice.Unsigned, null);

    /// <summary>
    /// Opens a mirror to write entries: the signing choice is made first (<see cref="SigningChoice.Decide"/>: the
    /// options, then the mirror's <c>signed</c> setting), then the push connection is opened.
    /// </summary>
    /// <exception cref="DepotException">Contradicting options, no usable secret key, or the mirror cannot be opened.
    /// </exception>
    public Mirror OpenForWrite(string nameOrUrl, MirrorWriteOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configured = Registry.Find(nameOrUrl);
        var signing = SigningChoice.Decide(Home, options, configured?.Mirror);
        return Create(nameOrUrl, MirrorPurpose.Write, null, signing, options.Layout);
    }

    /// <summary>
    /// Opens a mirror for work that neither verifies entries nor signs new ones (<c>mirror check</c>, <c>index</c>,
    /// publishing keys, reading a mirror's keys): its configuration, store and layouts only.
    /// </summary>
    /// <exception cref="DepotException">A variable the configuration names is not set, or the URL is unusable.
    /// </exception>
    public Mirror Open(string nameOrUrl, MirrorPurpose purpose) => Create(nameOrUrl, purpose, null,
        SigningChoice.Unsigned, null);

    /// <summary>
    /// The keyring's signing key <paramref name="key"/> (null: its only one), for signing existing entries.
    /// </summary>
    /// <exception cref="DepotException">No such secret key, or several and none named.</exception>
    public SigningChoice SigningKey(string? key) => SigningChoice.WithKey(Home, key);

    private Mirror Create(string nameOrUrl, MirrorPurpose purpose, Func<Mirror, CancellationToken,
        Task<Signing.TrustPolicy>>? trust,
        SigningChoice signing, PushLayout? layout)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrUrl);
        var registry = Registry;
        var store = Access.OpenStore(new StoreRequest(registry, nameOrUrl, purpose, Path.Combine(Home.Path, "cache",
            "http")));
        return new Mirror(nameOrUrl, purpose, registry.Find(nameOrUrl), store, Access.DetectLayouts, trust, signing,
            layout);
    }
}
