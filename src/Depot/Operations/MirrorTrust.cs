using Depot.Configuration;
using Depot.Signing;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Operations;

/// <summary>
/// Builds the <see cref="TrustPolicy"/> for one mirror from the keyring and <c>config.yaml</c>: the trusted keys
/// (restricted to the mirror's pinned fingerprints when it has any; a pinned key not yet in the keyring is taken from
/// the mirror's published keys once its fingerprint matches), and whether unsigned entries are allowed. A pin admits
/// exactly that primary key and the signing subkeys it bound itself: the mirror's copy is reduced to what the
/// primary certified, and the verifier checks every binding again.
/// </summary>
/// <remarks>
/// <see cref="EngineContext.OpenForRead"/> calls this once per mirror, with the configuration it found and the
/// layouts it detected; nothing here loads the configuration or detects layouts again.
/// </remarks>
public static class MirrorTrust
{
    /// <summary>
    /// The policy for <paramref name="mirror"/>: none for <paramref name="noVerify"/>, else as configured.
    /// </summary>
    /// <exception cref="DepotException">The keyring or a published key the pins need cannot be read.</exception>
    public static async Task<TrustPolicy> CreateAsync(DepotHome home, Mirror mirror, bool noVerify,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(mirror);
        if (noVerify)
        {
            return TrustPolicy.None(mirror.Name);
        }

        var rings = await TrustedRingsAsync(home, mirror, mirror.Configuration?.TrustedFingerprints ?? [],
            cancellationToken).ConfigureAwait(false);
        var requireSignature = mirror.Configuration?.Signed ?? true;
        return new TrustPolicy(mirror.Name, new SignatureVerifier(rings), requireSignature);
    }

    /// <summary>
    /// The keyring's trusted key rings, restricted to <paramref name="pins"/> when there are any; a pinned key missing
    /// from the keyring is taken from the mirror's published keys once its fingerprint matches (a pull-through
    /// server's upstream pins its keys in serve.yaml, not in config.yaml).
    /// </summary>
    /// <exception cref="DepotException">The keyring or a published key the pins need cannot be read.</exception>
    public static async Task<List<PgpPublicKeyRing>> TrustedRingsAsync(DepotHome home, Mirror mirror,
        IReadOnlyCollection<string> pins, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentNullException.ThrowIfNull(pins);
        var rings = Keyring.Open(home.KeysFolder).TrustedRings().ToList();
        if (pins.Count > 0)
        {
            rings = rings.Where(r => pins.Contains(SignatureVerifier.Fingerprint(r.GetPublicKey()))).ToList();
            var missing = pins.Except(rings.Select(r => SignatureVerifier.Fingerprint(r.GetPublicKey()))).ToHashSet();
            foreach (var layout in await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (missing.Count == 0)
                {
                    break;
                }

                foreach (var published in await layout.ReadPublishedKeysAsync(cancellationToken).ConfigureAwait(false))
                {
                    foreach (var ring in OpenPgpArmor.ReadKeyRings(published.Armored, published.Location).Public)
                    {
                        if (missing.Remove(SignatureVerifier.Fingerprint(ring.GetPublicKey())))
                        {
                            rings.Add(CertifiedKeyRing.Merge([ring], published.Location));
                        }
                    }
                }
            }
        }

        return rings;
    }
}
