using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>
/// The form in which Depot keeps a trusted key: only what its primary key vouches for. A user id stays with the
/// certifications the primary made on it; a subkey stays only when a binding signature of the primary verifies,
/// with its bindings and subkey revocations that verify; direct-key signatures and key revocations stay when they
/// verify. Everything else is dropped: subkeys nobody bound, signatures that do not verify, third-party
/// certifications (as <c>gpg --export-options export-minimal</c>), user attributes (photo ids) and trust packets.
/// So what a mirror publishes for a key already trusted can add only what the key's owner signed (a revocation, an
/// extended expiry, a subkey bound by the primary), never a key that signs for it.
/// </summary>
public static class CertifiedKeyRing
{
    /// <summary>
    /// Merges copies of one key (the one already trusted first, then e.g. the copy a mirror publishes) keeping only
    /// what its primary certified. This is not BouncyCastle's <c>PgpPublicKeyRing.Join</c>, which takes every subkey
    /// and merges unhashed subpackets of the copy into the trusted signatures.
    /// </summary>
    /// <exception cref="InvalidContentException">The primary key has no valid self-signature.</exception>
    public static PgpPublicKeyRing Merge(IReadOnlyList<PgpPublicKeyRing> copies, string location)
    {
        var primary = copies[0].GetPublicKey();
        var fingerprint = SignatureVerifier.Fingerprint(primary);
        if (copies.Any(c => SignatureVerifier.Fingerprint(c.GetPublicKey()) != fingerprint))
        {
            throw new ArgumentException("copies of different keys cannot be merged", nameof(copies));
        }

        var math = new SignatureMath();
        using var output = new MemoryStream();
        var keyMaterial = SignatureMath.KeyMaterial(primary);
        var keySignatures = Distinct(copies.SelectMany(c => c.GetPublicKey().GetKeySignatures()))
            .Where(s => (s.SignatureType is PgpSignature.DirectKey or PgpSignature.KeyRevocation)
                && math.Certifies(s, primary, keyMaterial))
            .ToList();
        output.Write(primary.PublicKeyPacket.GetEncoded());
        Write(output, keySignatures);

        var certified = keySignatures.Any(s => s.SignatureType == PgpSignature.DirectKey);
        foreach (var rawId in DistinctIds(copies.SelectMany(c => c.GetPublicKey().GetRawUserIds())))
        {
            var material = SignatureMath.UserIdMaterial(primary, rawId);
            var signatures = Distinct(copies.SelectMany(c => c.GetPublicKey().GetRawUserIds()
                .Any(r => r.AsSpan().SequenceEqual(rawId))
                    ? c.GetPublicKey().GetSignaturesForId(rawId)
                    : []))
                .Where(s => (s.SignatureType
                        is (>= PgpSignature.DefaultCertification and <= PgpSignature.PositiveCertification)
                        or PgpSignature.CertificationRevocation)
                    && math.Certifies(s, primary, material))
                .ToList();
            if (signatures.Any(s => s.SignatureType != PgpSignature.CertificationRevocation))
            {
                output.Write(new UserIdPacket(rawId).GetEncoded());
                Write(output, signatures);
                certified = true;
            }
        }

        if (!certified)
        {
            throw new InvalidContentException(location,
                $"key {fingerprint} carries no valid self-signature (no user id certified by the key itself)");
        }

        var subkeys = copies.SelectMany(c => c.GetPublicKeys().Cast<PgpPublicKey>().Skip(1))
            .GroupBy(SignatureVerifier.Fingerprint, StringComparer.Ordinal);
        foreach (var copiesOfSubkey in subkeys)
        {
            var subkey = copiesOfSubkey.First();
            var material = SignatureMath.KeyMaterial(primary, subkey);
            var signatures = Distinct(copiesOfSubkey.SelectMany(k => k.GetKeySignatures()))
                .Where(s => (s.SignatureType is PgpSignature.SubkeyBinding or PgpSignature.SubkeyRevocation)
                    && math.Certifies(s, primary, material))
                .ToList();
            if (signatures.Any(s => s.SignatureType == PgpSignature.SubkeyBinding))
            {
                output.Write(subkey.PublicKeyPacket.GetEncoded());
                Write(output, signatures);
            }
        }

        return new PgpPublicKeyRing(output.ToArray());
    }

    /// <summary>Signatures without repeats (same encoding), in the order first seen.</summary>
    private static IEnumerable<PgpSignature> Distinct(IEnumerable<PgpSignature> signatures)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var signature in signatures)
        {
            if (seen.Add(Convert.ToBase64String(signature.GetEncoded())))
            {
                yield return signature;
            }
        }
    }

    private static IEnumerable<byte[]> DistinctIds(IEnumerable<byte[]> ids)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return ids.Where(id => seen.Add(Convert.ToBase64String(id)));
    }

    private static void Write(Stream output, IEnumerable<PgpSignature> signatures)
    {
        foreach (var signature in signatures)
        {
            signature.Encode(output);
        }
    }
}
