using Depot.Configuration;
using Depot.Layout;
using Depot.Signing;

namespace Depot.Operations;

/// <summary>
/// Builds the <see cref="TrustPolicy"/> for one mirror from the keyring and <c>config.yaml</c>: the trusted keys
/// (restricted to the mirror's pinned fingerprints when it has any; a pinned key not yet in the keyring is taken from
/// the mirror's published keys once its fingerprint matches), and whether unsigned entries are allowed. A pin admits
/// exactly that primary key and the signing subkeys it bound itself: the mirror's copy is reduced to what the
/// primary certified, and the verifier checks every binding again.
/// </summary>
public static class MirrorTrust
{
    public static async Task<TrustPolicy> CreateAsync(DepotHome home, string mirror, IReadOnlyList<IBuildCacheLayout> layouts,
        bool noVerify, CancellationToken cancellationToken = default)
    {
        if (noVerify)
        {
            return TrustPolicy.None(mirror);
        }

        var configured = MirrorRegistry.Load(home).Find(mirror);
        var rings = Keyring.Open(home.KeysFolder).TrustedRings().ToList();
        var pins = configured?.Mirror.TrustedFingerprints ?? [];
        if (pins.Count > 0)
        {
            rings = rings.Where(r => pins.Contains(SignatureVerifier.Fingerprint(r.GetPublicKey()))).ToList();
            var missing = pins.Except(rings.Select(r => SignatureVerifier.Fingerprint(r.GetPublicKey()))).ToHashSet();
            foreach (var layout in layouts)
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

        var requireSignature = configured?.Mirror.Signed ?? true;
        return new TrustPolicy(mirror, new SignatureVerifier(rings), requireSignature);
    }
}
