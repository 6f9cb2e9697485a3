using Depot.Configuration;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Signing;

namespace Depot.Operations;

/// <summary>A key found on a mirror and what trusting it did.</summary>
public sealed record MirrorKey(KeyInfo Key, bool Trusted);

/// <summary>Moving keys between the keyring and mirrors: publish, and trust what a mirror publishes.</summary>
public static class KeyOperations
{
    /// <summary>
    /// Publishes public keys on a mirror where Spack's <c>buildcache keys --install --trust</c> finds them (v3 key
    /// manifests and key index; v2 <c>_pgp/&lt;FPR&gt;.pub</c> and <c>_pgp/index.json</c>). With no ids, every key
    /// the keyring can sign with is published.
    /// </summary>
    public static async Task<IReadOnlyList<KeyInfo>> PublishAsync(DepotHome home, Mirror mirror,
        IReadOnlyList<string> ids,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(mirror);
        var store = mirror.Writable; // a read-only mirror is refused before anything is read
        var keyring = Keyring.Open(home.KeysFolder);
        var keys = ids.Count == 0 ? keyring.List(secretOnly: true) : ids.Select(id => keyring.Find(id)).ToList();
        if (keys.Count == 0)
        {
            throw new DepotException(ErrorKind.NotFound, "no keys to publish: no key can sign, and none was named",
                new ErrorHint(HintAction.CreateSigningKey));
        }

        var published = keys.Select(k => new PublishedKey(k.Fingerprint, keyring.ExportPublic(k.Fingerprint),
            k.Fingerprint)).ToList();
        IReadOnlyList<IBuildCacheLayout> layouts;
        try
        {
            layouts = await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NoBuildCacheException)
        {
            // A new mirror gets the current layout; a new registry repository, its only one.
            layouts = [BuildCache.RegistryLayout(store) ?? new BuildCacheV3(store)];
        }

        foreach (var layout in layouts)
        {
            await layout.PublishKeysAsync(published, cancellationToken).ConfigureAwait(false);
        }

        return keys;
    }

    /// <summary>
    /// The keys a mirror publishes, read from all its layouts, with their real fingerprints, each reduced to what its
    /// primary key certified (<see cref="CertifiedKeyRing"/>): a subkey or user id the mirror added is neither shown
    /// nor trusted.
    /// </summary>
    public static async Task<IReadOnlyList<(KeyInfo Info, string Armored)>> ReadMirrorKeysAsync(Mirror mirror,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        var store = mirror.Store;
        var layouts = await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false);
        var found = new Dictionary<string, (KeyInfo, string)>(StringComparer.Ordinal);
        foreach (var layout in layouts)
        {
            foreach (var published in await layout.ReadPublishedKeysAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var copy in OpenPgpArmor.ReadKeyRings(published.Armored, published.Location).Public)
                {
                    var ring = CertifiedKeyRing.Merge([copy], published.Location);
                    var info = Keyring.Describe(ring.GetPublicKey(), false, store.Root);
                    if (!string.Equals(info.Fingerprint, published.Fingerprint, StringComparison.OrdinalIgnoreCase))
                    {
                        throw new InvalidContentException(published.Location,
                            $"filed under fingerprint {published.Fingerprint} but the key inside is "
                            + $"{info.Fingerprint}");
                    }

                    found.TryAdd(info.Fingerprint,
                        (info, OpenPgpArmor.Armor(OpenPgpArmor.PublicKeyBlock, ring.GetEncoded())));
                }
            }
        }

        return found.Values.OrderBy(k => k.Item1.Fingerprint, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Trusts a mirror's published key(s): the one with <paramref name="fingerprint"/> (refused when the mirror has no
    /// such key), or all of them. When the mirror is configured by name, the fingerprints are pinned to it in
    /// <c>config.yaml</c>.
    /// </summary>
    public static async Task<IReadOnlyList<KeyInfo>> TrustMirrorKeysAsync(DepotHome home, Mirror mirror,
        string? fingerprint,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(mirror);
        var keys = await ReadMirrorKeysAsync(mirror, cancellationToken).ConfigureAwait(false);
        if (keys.Count == 0)
        {
            throw new DepotException(ErrorKind.NotFound,
                $"{mirror.Name}: publishes no keys (no v3/manifests/key/ or build_cache/_pgp/); get the key file from "
                + "its owner", new ErrorHint(HintAction.TrustKeyFile));
        }

        if (fingerprint is not null)
        {
            var wanted = Keyring.NormalizeId(fingerprint);
            if (wanted.Length != 40)
            {
                throw new DepotException(ErrorKind.Usage,
                    $"a mirror's key is pinned by its full 40-hex fingerprint, not '{fingerprint}'");
            }

            keys = keys.Where(k => k.Info.Fingerprint == wanted).ToList();
            if (keys.Count == 0)
            {
                throw new DepotException(ErrorKind.NotFound,
                    $"{mirror.Name}: publishes no key with fingerprint {wanted}; refusing to trust anything");
            }
        }

        var keyring = Keyring.Open(home.KeysFolder);
        var trusted = new List<KeyInfo>();
        foreach (var (info, armored) in keys)
        {
            trusted.AddRange(keyring.Import(armored, info.Fingerprint, mirror.Name));
        }

        var config = DepotConfig.Load(home.ConfigFile);
        if (config.Find(mirror.Name) is { } configured)
        {
            foreach (var key in trusted.Where(k => !configured.Mirror.TrustedFingerprints.Contains(k.Fingerprint)))
            {
                configured.Mirror.TrustedFingerprints.Add(key.Fingerprint);
            }

            config.Save(home.ConfigFile);
        }

        return trusted;
    }
}
