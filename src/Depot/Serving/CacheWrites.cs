using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;

namespace Depot.Serving;

/// <summary>How a cache takes pushed entries, as its <c>info</c> tells a pusher.</summary>
public enum PushSigning
{
    /// <summary>Entries must arrive signed by a key the cache trusts.</summary>
    Client,

    /// <summary>The server signs what arrives unsigned with the cache's own key (<c>sign_with</c>).</summary>
    Server,

    /// <summary>Unsigned entries are stored unsigned (<c>allow_unsigned</c>).</summary>
    None,
}

/// <summary>
/// The write side of one served cache: its store opened through the push connection (on first use), uploaded blobs,
/// manifest commits and the coalesced index updates. Holds nothing a second server process over the same store would
/// need (staging of unfinished parts aside).
/// </summary>
public sealed class CacheWrites
{
    private readonly ServedCacheConfig config;
    private readonly EngineContext engine;
    private readonly Lazy<IObjectStore> store;

    internal CacheWrites(ServedCacheConfig config, EngineContext engine, long maxBlobBytes)
    {
        this.config = config;
        this.engine = engine;
        store = new Lazy<IObjectStore>(() => engine.Open(config.Mirror, MirrorPurpose.Write).Writable);
        Blobs = new UploadedBlobs(config.Name, () => store.Value, maxBlobBytes);
        Index = new IndexUpdater(() => new BuildCacheV3(store.Value), new IndexOptions(Cache: engine.IndexCache));
        Manifests = new ManifestCommit(config, () => store.Value, TrustAsync, Signer, Index);
    }

    /// <summary>Blob uploads.</summary>
    public UploadedBlobs Blobs { get; }

    /// <summary>Manifest commits (the last step of a push).</summary>
    public ManifestCommit Manifests { get; }

    /// <summary>The cache's index updates.</summary>
    public IndexUpdater Index { get; }

    /// <summary>The store written (opened on first use).</summary>
    /// <exception cref="DepotException">The mirror cannot be opened or cannot be written.</exception>
    public IObjectStore Store => store.Value;

    /// <summary>How pushed entries are signed.</summary>
    public PushSigning Signing =>
        config.SignWith is not null ? PushSigning.Server : config.AllowUnsigned ? PushSigning.None : PushSigning.Client;

    /// <summary>The layout pushers write: 3 unless the cache holds only layout v2 (Spack 0.21–0.23).</summary>
    public async Task<int> LayoutVersionAsync(CancellationToken cancellationToken)
    {
        try
        {
            var layouts = await BuildCache.DetectAsync(Store, cancellationToken).ConfigureAwait(false);
            return layouts.Any(l => l.Version == 3) || layouts.Count == 0 ? 3 : layouts[0].Version;
        }
        catch (NoBuildCacheException)
        {
            return 3;
        }
    }

    /// <summary>
    /// The keys a pushed signature may be made with: the server keyring's, restricted to the cache's
    /// <c>trusted_fingerprints</c> when it lists any (a listed key the keyring lacks is taken from the keys the cache
    /// publishes, once its fingerprint matches). Read at each commit, so keys added to the keyring count at once.
    /// </summary>
    private async Task<TrustPolicy> TrustAsync(CancellationToken cancellationToken)
    {
        var rings = Keyring.Open(engine.Home.KeysFolder).TrustedRings().ToList();
        var pins = config.TrustedFingerprints;
        if (pins.Count > 0)
        {
            rings = rings.Where(r => pins.Contains(SignatureVerifier.Fingerprint(r.GetPublicKey()),
                StringComparer.OrdinalIgnoreCase)).ToList();
            var missing = pins.Select(p => p.ToUpperInvariant())
                .Except(rings.Select(r => SignatureVerifier.Fingerprint(r.GetPublicKey()))).ToHashSet();
            if (missing.Count > 0)
            {
                var published = await new BuildCacheV3(Store).ReadPublishedKeysAsync(cancellationToken)
                    .ConfigureAwait(false);
                foreach (var key in published)
                {
                    foreach (var ring in OpenPgpArmor.ReadKeyRings(key.Armored, key.Location).Public)
                    {
                        if (missing.Remove(SignatureVerifier.Fingerprint(ring.GetPublicKey())))
                        {
                            rings.Add(CertifiedKeyRing.Merge([ring], key.Location));
                        }
                    }
                }
            }
        }

        return new TrustPolicy(config.Name, new SignatureVerifier(rings), requireSignature: !config.AllowUnsigned);
    }

    /// <summary>
    /// Publishes an armored public key on the cache where Spack looks for keys (v3 key manifests and key index), as an
    /// admin asks. The key's primary fingerprint must be <paramref name="fingerprint"/>. Publishing does not make the
    /// server trust it (trust is the keyring and <c>trusted_fingerprints</c>).
    /// </summary>
    /// <exception cref="DepotException">Not one public key with that fingerprint (invalid content), or the store
    /// fails.</exception>
    public async Task<string> PublishKeyAsync(string fingerprint, string armored, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        var location = $"key {fingerprint}";
        if (armored.Length > 1 << 20)
        {
            throw new BodyTooLargeException($"{location}: an armored key of {armored.Length} characters");
        }

        var (rings, secrets) = OpenPgpArmor.ReadKeyRings(armored, location);
        if (secrets.Count > 0 || rings.Count != 1)
        {
            throw new InvalidContentException(location, "expected one armored public key (and no secret key)");
        }

        var actual = SignatureVerifier.Fingerprint(rings[0].GetPublicKey());
        if (!actual.Equals(fingerprint, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidContentException(location, $"the key sent has fingerprint {actual}");
        }

        await new BuildCacheV3(Store).PublishKeysAsync([new PublishedKey(actual, armored, location)],
            cancellationToken).ConfigureAwait(false);
        return actual;
    }

    private (EntrySigner, PublishedKey)? Signer()
    {
        if (config.SignWith is not { } name)
        {
            return null;
        }

        var choice = SigningChoice.WithKey(engine.Home, name);
        return (new EntrySigner(choice.Key!), choice.Published!);
    }
}
