using Depot.Configuration;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Signing;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// What a mirror is opened for: the connection it uses (Spack's <c>fetch</c> or <c>push</c> settings).
/// </summary>
public enum MirrorPurpose
{
    /// <summary>Reading through the mirror's fetch connection; entries are checked under its trust policy.</summary>
    Read,

    /// <summary>Writing through the mirror's push connection; entries are signed as its signing choice says.</summary>
    Write,
}

/// <summary>
/// One mirror, resolved once for one purpose: the name or URL it was given by, its configuration (when configured),
/// its opened store, its build cache layouts (detected at most once, on first use), and, depending on the purpose, the
/// trust policy its entries are read under or the signing key and layout its writes use. Operations take a
/// <see cref="Mirror"/> and never resolve any of these themselves. Hosts get one from <see cref="EngineContext"/>;
/// <see cref="Of"/> wraps a store that is already open (tests, benchmarks).
/// </summary>
/// <remarks>
/// Layouts and trust are computed once and shared by every caller, for the life of the object: one command or one
/// request. The first caller's cancellation token cancels the shared computation.
/// </remarks>
public sealed class Mirror
{
    private readonly Func<IStoreReader, CancellationToken, Task<IReadOnlyList<IBuildCacheLayout>>> detectLayouts;
    private readonly Func<Mirror, CancellationToken, Task<TrustPolicy>>? createTrust;
    private readonly Lock gate = new();
    private Task<IReadOnlyList<IBuildCacheLayout>>? layouts;
    private Task<TrustPolicy>? trust;

    internal Mirror(string name, MirrorPurpose purpose, (string Name, MirrorConfig Mirror)? configured,
        IStoreReader store,
        Func<IStoreReader, CancellationToken, Task<IReadOnlyList<IBuildCacheLayout>>> detectLayouts,
        Func<Mirror, CancellationToken, Task<TrustPolicy>>? createTrust, SigningChoice signing,
            PushLayout? requestedLayout)
    {
        Name = name;
        Purpose = purpose;
        ConfiguredName = configured?.Name;
        Configuration = configured?.Mirror;
        Store = store;
        this.detectLayouts = detectLayouts;
        this.createTrust = createTrust;
        Signing = signing;
        RequestedLayout = requestedLayout;
    }

    /// <summary>The mirror as the user named it (a configured name, a path or a URL), for messages.</summary>
    public string Name { get; }

    /// <summary>What the mirror was opened for.</summary>
    public MirrorPurpose Purpose { get; }

    /// <summary>The name the mirror is configured under (Depot's or Spack's), or null for a bare path or URL.</summary>
    public string? ConfiguredName { get; }

    /// <summary>The mirror's configuration, or null for a bare path or URL.</summary>
    public MirrorConfig? Configuration { get; }

    /// <summary>The opened store, with the credentials configured for the purpose's connection.</summary>
    public IStoreReader Store { get; }

    /// <summary>The store, for operations that write to it (push, copy into, index, sign, publish keys).</summary>
    /// <exception cref="ReadOnlyStoreException">The store can only be read (plain HTTP).</exception>
    public IObjectStore Writable => Store.RequireWritable();

    /// <summary>
    /// Write purpose: the key that signs what is written and the public key to publish with it, decided once when
    /// the mirror was opened (<see cref="SigningChoice.Decide"/>). <see cref="SigningChoice.Unsigned"/> otherwise.
    /// </summary>
    public SigningChoice Signing { get; }

    /// <summary>Write purpose: the layout asked for (<c>--layout</c>), or null to keep the mirror's own.</summary>
    public PushLayout? RequestedLayout { get; }

    /// <summary>
    /// Wraps a store that is already open, for tests and tools that do not go through <see cref="EngineContext"/>.
    /// <paramref name="trust"/> is what <see cref="GetTrustAsync"/> returns (null: asking for it is a programming
    /// error); <paramref name="signing"/> and <paramref name="layout"/> are the write choices.
    /// </summary>
    public static Mirror Of(IStoreReader store, TrustPolicy? trust = null, SigningChoice? signing = null,
        PushLayout? layout = null,
        string? name = null, MirrorPurpose purpose = MirrorPurpose.Read)
    {
        ArgumentNullException.ThrowIfNull(store);
        return new Mirror(name ?? store.Root, purpose, null, store, BuildCache.DetectAsync,
            trust is null ? null : (_, _) => Task.FromResult(trust), signing ?? SigningChoice.Unsigned, layout);
    }

    /// <summary>
    /// The build cache layouts the mirror holds, newest first, detected on the first call and reused afterwards
    /// (a failure, such as no build cache yet, is reused too).
    /// </summary>
    /// <exception cref="NoBuildCacheException">The mirror holds no build cache.</exception>
    /// <exception cref="DepotException">It holds only a layout this Depot does not know.</exception>
    public Task<IReadOnlyList<IBuildCacheLayout>> GetLayoutsAsync(CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return layouts ??= detectLayouts(Store, cancellationToken);
        }
    }

    /// <summary>
    /// The trust policy if <see cref="GetTrustAsync"/> has built it already, else null: explaining a failure never
    /// starts building it.
    /// </summary>
    public TrustPolicy? BuiltTrust
    {
        get
        {
            lock (gate)
            {
                return trust is { IsCompletedSuccessfully: true } built ? built.Result : null;
            }
        }
    }

    /// <summary>
    /// The trust policy the mirror's entries are read under (keyring, the mirror's pinned fingerprints, its
    /// <c>signed</c> setting, or no checks for <c>--no-verify</c>), built on the first call and reused afterwards.
    /// </summary>
    /// <exception cref="InvalidOperationException">The mirror was not opened for verified reading.</exception>
    public Task<TrustPolicy> GetTrustAsync(CancellationToken cancellationToken = default)
    {
        if (createTrust is null)
        {
            throw new InvalidOperationException(
                $"mirror {Name} was opened without a trust policy (open it for reading)");
        }

        lock (gate)
        {
            return trust ??= createTrust(this, cancellationToken);
        }
    }

    /// <summary>
    /// The layout writes go to: the one asked for, else the one the mirror already has (v3 when it has both), v3 for
    /// a mirror with no build cache yet, Spack's OCI layout for a registry, and a Depot server's own layout. Uses the
    /// layouts detected once.
    /// </summary>
    /// <exception cref="DepotException">The mirror holds only a layout this Depot does not know.</exception>
    public async Task<PushLayout> GetWriteLayoutAsync(CancellationToken cancellationToken = default)
    {
        if (RequestedLayout is { } requested)
        {
            return requested;
        }

        if (BuildCache.HoldsOciLayout(Store))
        {
            return PushLayout.Oci;
        }

        if (await BuildCache.DepotServerAsync(Store, cancellationToken).ConfigureAwait(false) is { } server)
        {
            return server.Info.Layout == 2 ? PushLayout.V2Spack022 : PushLayout.V3;
        }

        try
        {
            var present = await GetLayoutsAsync(cancellationToken).ConfigureAwait(false);
            return present.Any(l => l.Version == 3) ? PushLayout.V3 : PushLayout.V2;
        }
        catch (NoBuildCacheException)
        {
            return PushLayout.V3;
        }
    }
}
