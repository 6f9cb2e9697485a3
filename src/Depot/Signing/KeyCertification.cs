using System.Globalization;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>
/// Whether a key of a trusted key ring may sign for it, judged from the signatures its primary key made, each one
/// checked: nothing in a key ring counts unless its signature verifies. The rules are GnuPG 2.2's:
/// <list type="bullet">
/// <item>The primary key needs a valid self-signature (user id certification or direct-key signature); the newest
/// one not dated after the clock gives its key flags and expiry. Without key flags, a primary may sign when its
/// algorithm can (GnuPG's rule).</item>
/// <item>A subkey signs only when a valid binding signature (0x18) from the primary gives it the signing flag (0x02;
/// stricter than GnuPG, which falls back on the algorithm when a binding has no flags, something GnuPG itself never
/// writes) and carries a valid cross-certification: an embedded primary key binding signature (0x19) made by the
/// subkey. GnuPG requires it by default (--require-cross-certification); without it anyone could claim another's
/// signing key as a subkey.</item>
/// <item>A revocation (0x20 for the primary, 0x28 for a subkey) counts only when it verifies as made by the primary;
/// any valid revocation makes the key unusable, whatever its reason. Designated revokers are not honoured.</item>
/// <item>Expiry comes from the key expiration time of the chosen self-signature or binding, and is judged against the
/// clock, never against the creation time a signature claims.</item>
/// </list>
/// </summary>
internal sealed class KeyCertification
{
    private readonly SignatureMath math;

    public KeyCertification(SignatureMath math) => this.math = math;

    /// <summary>Who the key ring says it is and what makes <paramref name="key"/> usable or not at
    /// <paramref name="now"/>.</summary>
    public SignerStatus Evaluate(PgpPublicKey primary, PgpPublicKey key, DateTime now)
    {
        var keyId = KeyId(key);
        var isPrimary = key.GetFingerprint().AsSpan().SequenceEqual(primary.GetFingerprint());
        var primaryFpr = SignatureVerifier.Fingerprint(primary);
        var self = NewestSelfSignature(primary, now, out var userId);
        if (self is null)
        {
            return SignerStatus.Refused(primary, key, "", SignatureFailure.KeyNotValid,
                $"trusted key {primaryFpr} carries no valid self-signature, so none of its keys can sign");
        }

        if (IsRevoked(primary, PgpSignature.KeyRevocation, SignatureMath.KeyMaterial(primary), primary))
        {
            return SignatureFailureFor(primary, key, userId, isPrimary
                ? $"signed by key {keyId}, which has been revoked"
                : $"signed by key {keyId}, a subkey of {primaryFpr}, which has been revoked");
        }

        var expires = Expiry(primary, self);
        if (isPrimary)
        {
            if (!CanSign(primary, self, subkey: false))
            {
                return SignerStatus.Refused(primary, key, userId, SignatureFailure.NotASigningKey,
                    $"signed by key {keyId}, which may not sign: {UsageProblem(primary, self)}");
            }

            return new SignerStatus(primary, key, userId, null, null, expires, primary);
        }

        var material = SignatureMath.KeyMaterial(primary, key);
        var binding = NewestValid(key.GetKeySignatures(), PgpSignature.SubkeyBinding, primary, material, now);
        var what =
            $"signed by key {keyId} (fingerprint {SignatureVerifier.Fingerprint(key)}), which is not a signing subkey "
            + $"of trusted key {primaryFpr}";
        if (binding is null)
        {
            return SignerStatus.Refused(primary, key, userId, SignatureFailure.NotASigningKey,
                what + ": no valid binding signature from that key");
        }

        if (IsRevoked(key, PgpSignature.SubkeyRevocation, material, primary))
        {
            return SignatureFailureFor(primary, key, userId,
                $"signed by key {keyId}, a subkey of {primaryFpr} that has been revoked");
        }

        if (!CanSign(key, binding, subkey: true))
        {
            return SignerStatus.Refused(primary, key, userId, SignatureFailure.NotASigningKey,
                what + ": " + UsageProblem(key, binding));
        }

        if (!IsCrossCertified(key, binding, material))
        {
            return SignerStatus.Refused(primary, key, userId, SignatureFailure.NotASigningKey,
                what + ": its binding has no valid cross-certification (primary key binding signature) made by the "
                + "subkey");
        }

        // The key lives as long as both it and its primary do.
        return Expiry(key, binding) is { } subkeyExpires && (expires is null || subkeyExpires < expires)
            ? new SignerStatus(primary, key, userId, null, null, subkeyExpires, key)
            : new SignerStatus(primary, key, userId, null, null, expires, primary);
    }

    /// <summary>The newest valid self-signature of the primary: a user id certification or a direct-key
    /// signature.</summary>
    public PgpSignature? NewestSelfSignature(PgpPublicKey primary, DateTime now, out string userId)
    {
        PgpSignature? newest = null;
        userId = "";
        foreach (var rawId in primary.GetRawUserIds())
        {
            var material = SignatureMath.UserIdMaterial(primary, rawId);
            foreach (PgpSignature signature in primary.GetSignaturesForId(rawId))
            {
                if (IsUserIdCertification(signature.SignatureType) && IsCurrent(signature, now)
                    && math.Certifies(signature, primary, material)
                    && (newest is null || signature.CreationTime > newest.CreationTime))
                {
                    newest = signature;
                    userId = System.Text.Encoding.UTF8.GetString(rawId);
                }
            }
        }

        var direct = NewestValid(primary.GetKeySignatures(), PgpSignature.DirectKey, primary,
            SignatureMath.KeyMaterial(primary), now);
        return direct is not null && (newest is null || direct.CreationTime > newest.CreationTime) ? direct : newest;
    }

    /// <summary>The newest signature of <paramref name="type"/> that <paramref name="signer"/> made over the
    /// material.</summary>
    public PgpSignature? NewestValid(IEnumerable<PgpSignature> signatures, int type, PgpPublicKey signer,
        byte[] material, DateTime now)
    {
        PgpSignature? newest = null;
        foreach (var signature in signatures)
        {
            if (signature.SignatureType == type && IsCurrent(signature, now)
                && (newest is null || signature.CreationTime > newest.CreationTime)
                && math.Certifies(signature, signer, material))
            {
                newest = signature;
            }
        }

        return newest;
    }

    /// <summary>True when a revocation of <paramref name="type"/> on <paramref name="key"/> verifies as made by the
    /// primary.</summary>
    public bool IsRevoked(PgpPublicKey key, int type, byte[] material, PgpPublicKey primary) =>
        key.GetKeySignatures().Any(s => s.SignatureType == type && math.Certifies(s, primary, material));

    /// <summary>True when the binding carries a primary key binding signature (0x19) that the subkey made.</summary>
    public bool IsCrossCertified(PgpPublicKey subkey, PgpSignature binding, byte[] material)
    {
        foreach (var area in new[] { binding.GetHashedSubPackets(), binding.GetUnhashedSubPackets() })
        {
            PgpSignatureList embedded;
            try
            {
                embedded = area?.GetEmbeddedSignatures() ?? new PgpSignatureList(Array.Empty<PgpSignature>());
            }
            catch (PgpException)
            {
                continue;
            }

            for (var i = 0; i < embedded.Count; i++)
            {
                if (embedded[i].SignatureType == PgpSignature.PrimaryKeyBinding
                    && math.Certifies(embedded[i], subkey, material))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The hashed key flags of a self-signature or binding, or null when it has none.</summary>
    public static int? KeyFlags(PgpSignature signature)
    {
        var hashed = signature.GetHashedSubPackets();
        return hashed is not null && hashed.HasSubpacket(SignatureSubpacketTag.KeyFlags) ? hashed.GetKeyFlags() : null;
    }

    /// <summary>When the key expires, from the hashed key expiration time of its chosen self-signature or
    /// binding.</summary>
    public static DateTime? Expiry(PgpPublicKey key, PgpSignature selfSignature)
    {
        var seconds = selfSignature.GetHashedSubPackets()?.GetKeyExpirationTime() ?? 0;
        return seconds > 0 ? key.CreationTime.AddSeconds(seconds) : null;
    }

    private static bool CanSign(PgpPublicKey key, PgpSignature selfSignature, bool subkey) =>
        AlgorithmCanSign(key.Algorithm)
            && (KeyFlags(selfSignature) is { } flags ? (flags & PgpKeyFlags.CanSign) != 0 : !subkey);

    private static string UsageProblem(PgpPublicKey key, PgpSignature selfSignature) =>
        !AlgorithmCanSign(key.Algorithm) ? $"its algorithm ({key.Algorithm}) cannot sign"
        : KeyFlags(selfSignature) is { } flags
            ? $"its key flags (0x{flags.ToString("X2", CultureInfo.InvariantCulture)}) do not include signing (0x02)"
        : "its binding has no key flags, so it was never made a signing key";

    private static bool AlgorithmCanSign(PublicKeyAlgorithmTag algorithm) =>
        algorithm is PublicKeyAlgorithmTag.RsaGeneral
        or PublicKeyAlgorithmTag.RsaSign or PublicKeyAlgorithmTag.Dsa or PublicKeyAlgorithmTag.ECDsa
        or PublicKeyAlgorithmTag.EdDsa_Legacy
        or PublicKeyAlgorithmTag.Ed25519 or PublicKeyAlgorithmTag.Ed448;

    private static bool IsUserIdCertification(int type) =>
        type is >= PgpSignature.DefaultCertification and <= PgpSignature.PositiveCertification;

    /// <summary>Made no later than the clock, and not expired by its own signature expiration time.</summary>
    private static bool IsCurrent(PgpSignature signature, DateTime now)
    {
        if (signature.CreationTime > now)
        {
            return false;
        }

        var seconds = signature.GetHashedSubPackets()?.GetSignatureExpirationTime() ?? 0;
        return seconds == 0 || signature.CreationTime.AddSeconds(seconds) > now;
    }

    private static SignerStatus SignatureFailureFor(PgpPublicKey primary, PgpPublicKey key, string userId,
        string problem) =>
        SignerStatus.Refused(primary, key, userId, SignatureFailure.KeyNotValid, problem);

    internal static string KeyId(PgpPublicKey key) => key.KeyId.ToString("X16", CultureInfo.InvariantCulture);
}

/// <summary>
/// What the key ring says of one key that may have signed: its primary (the trusted identity), the primary's user id,
/// why it may not sign (a failure and a one-line problem, null when it may), and when it expires: the earlier of its
/// own expiry and its primary's, with the key that expires then.
/// </summary>
internal sealed record SignerStatus(PgpPublicKey Primary, PgpPublicKey Key, string UserId, SignatureFailure? Failure,
    string? Problem, DateTime? Expires, PgpPublicKey? ExpiringKey)
{
    public bool IsPrimary => Key.GetFingerprint().AsSpan().SequenceEqual(Primary.GetFingerprint());

    public static SignerStatus Refused(PgpPublicKey primary, PgpPublicKey key, string userId, SignatureFailure failure,
        string problem) =>
        new(primary, key, userId, failure, problem, null, null);
}
