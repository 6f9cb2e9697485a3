using System.Globalization;
using Depot.Formats;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>A document whose signature checked out: the signed text and who signed it.</summary>
/// <param name="Text">The signed text.</param>
/// <param name="SignerFingerprint">The trusted primary key the signature counts for: what trust is pinned on.</param>
/// <param name="SignerUserId">The primary's user id, from a valid self-signature.</param>
/// <param name="SigningKeyFingerprint">The key that made the signature: the primary itself, or one of its signing
/// subkeys.</param>
public sealed record VerifiedText(string Text, string SignerFingerprint, string SignerUserId,
    string SigningKeyFingerprint);

/// <summary>
/// Verifies clearsigned documents against a set of trusted public keys, as <c>gpg --verify</c> does for Spack: a good
/// signature from a trusted primary key, or from a signing subkey it bound itself, valid by the clock (see
/// <see cref="KeyCertification"/> for the rules). Anything else a key ring holds (unbound subkeys, signatures that do
/// not verify) grants nothing.
/// </summary>
public sealed class SignatureVerifier
{
    private readonly Dictionary<long, List<(PgpPublicKey Key, PgpPublicKey Primary)>> byKeyId = [];
    private readonly SignatureMath math = new();
    private readonly TimeProvider clock;
    private readonly Lock gate = new();
    private readonly Dictionary<PgpPublicKey, SignerStatus> statuses = new(ReferenceEqualityComparer.Instance);

    /// <param name="trusted">The trusted key rings.</param>
    /// <param name="clock">The clock keys' expiry is judged by (the system's by default).</param>
    public SignatureVerifier(IEnumerable<PgpPublicKeyRing> trusted, TimeProvider? clock = null)
    {
        this.clock = clock ?? TimeProvider.System;
        foreach (var ring in trusted)
        {
            var primary = ring.GetPublicKey();
            foreach (PgpPublicKey key in ring.GetPublicKeys())
            {
                if (!byKeyId.TryGetValue(key.KeyId, out var list))
                {
                    byKeyId[key.KeyId] = list = [];
                }

                list.Add((key, primary));
            }
        }
    }

    public int KeyCount => byKeyId.Values.Sum(l => l.Count);

    /// <exception cref="SignatureException">The signature is missing, malformed, untrusted or does not
    /// match.</exception>
    public VerifiedText Verify(string clearSigned, string location)
    {
        ClearSignedMessage message;
        try
        {
            message = ClearSignedMessage.Parse(clearSigned, location);
        }
        catch (InvalidContentException e)
        {
            throw new SignatureException(location, SignatureFailure.Malformed, e.Message[(location.Length + 2)..]);
        }

        var signature = ReadSignature(message, location);
        var keyId = signature.KeyId.ToString("X16", CultureInfo.InvariantCulture);
        var issuer = IssuerFingerprint(signature);
        var candidates = byKeyId.GetValueOrDefault(signature.KeyId)?
            .Where(c => issuer is null || Fingerprint(c.Key) == issuer).ToList() ?? [];
        if (candidates.Count == 0)
        {
            var who = issuer is null ? $"key {keyId}" : $"key {keyId} (fingerprint {issuer})";
            throw new SignatureException(location, SignatureFailure.UntrustedKey,
                $"signed by {who}, which is not trusted", keyId, issuer);
        }

        // Several trusted keys may share a 64-bit key id; the first that may sign is the one to check against.
        var now = clock.GetUtcNow().UtcDateTime;
        var statuses = candidates.Select(c => Status(c.Primary, c.Key, now)).ToList();
        var status = statuses.FirstOrDefault(s => s.Failure is null) ?? statuses[0];
        var signerFingerprint = Fingerprint(status.Key);
        var primaryFingerprint = Fingerprint(status.Primary);
        if (status.Failure is { } refused)
        {
            throw new SignatureException(location, refused, status.Problem!, keyId, signerFingerprint,
                primaryFingerprint);
        }

        CheckTimes(status, signature, now, location, keyId, signerFingerprint, primaryFingerprint);
        bool ok;
        try
        {
            ok = math.Verifies(signature, status.Key, ClearSigner.CanonicalText(message.Body));
        }
        catch (Exception e) when (e is PgpException or System.Security.Cryptography.CryptographicException)
        {
            throw new SignatureException(location, SignatureFailure.Malformed,
                "signature cannot be checked: " + e.Message, keyId, signerFingerprint, primaryFingerprint);
        }

        if (!ok)
        {
            var of = status.IsPrimary ? "" : $", a subkey of {primaryFingerprint}";
            throw new SignatureException(location, SignatureFailure.BadSignature,
                $"BAD signature from key {keyId}{of} ({status.UserId}): the content was changed after signing or the "
                + "signature is damaged", keyId, signerFingerprint, primaryFingerprint);
        }

        return new VerifiedText(message.Body, primaryFingerprint, status.UserId, signerFingerprint);
    }

    /// <summary>What the key ring says of a key, worked out once per key (its signatures are shared, BouncyCastle's are
    /// not thread-safe).</summary>
    private SignerStatus Status(PgpPublicKey primary, PgpPublicKey key, DateTime now)
    {
        lock (gate)
        {
            if (!statuses.TryGetValue(key, out var status))
            {
                statuses[key] = status = new KeyCertification(math).Evaluate(primary, key, now);
            }

            return status;
        }
    }

    /// <summary>
    /// The key must be valid now, by the clock: not expired, and neither created in the future nor after the time the
    /// signature claims (GnuPG's time conflict). The signature's own claim never extends a key's life.
    /// </summary>
    private static void CheckTimes(SignerStatus status, PgpSignature signature, DateTime now, string location,
        string keyId, string signerFingerprint, string primaryFingerprint)
    {
        void Fail(string problem) =>
            throw new SignatureException(location, SignatureFailure.KeyNotValid, $"signed by key {keyId}, {problem}",
                keyId, signerFingerprint, primaryFingerprint);

        if (status.Expires is { } expires && expires <= now)
        {
            var date = expires.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
            Fail(status.IsPrimary || status.ExpiringKey == status.Key
                ? $"which expired on {date}"
                : $"whose primary key {Fingerprint(status.Primary)} expired on {date}");
        }

        foreach (var key in new[] { status.Primary, status.Key })
        {
            if (key.CreationTime > now)
            {
                Fail($"whose key {KeyCertification.KeyId(key)} was created in the future "
                    + $"({key.CreationTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC)");
            }
        }

        if (signature.CreationTime < status.Key.CreationTime)
        {
            Fail("but the signature claims "
                + $"{signature.CreationTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC, before "
                + "the key was created");
        }
    }

    /// <summary>
    /// True when <paramref name="clearSigned"/> carries a good signature made by exactly <paramref name="key"/>, one of
    /// our own signing keys (a primary or a subkey): the "already signed by us" test of re-signing, which needs no
    /// trust decision and so no certification chain.
    /// </summary>
    public static bool IsSignedBy(string clearSigned, PgpPublicKey key, string location)
    {
        try
        {
            var message = ClearSignedMessage.Parse(clearSigned, location);
            var signature = ReadSignature(message, location);
            return signature.KeyId == key.KeyId
                && new SignatureMath().Verifies(signature, key, ClearSigner.CanonicalText(message.Body));
        }
        catch (Exception e) when (e is InvalidContentException or PgpException)
        {
            return false;
        }
    }

    private static PgpSignature ReadSignature(ClearSignedMessage message, string location)
    {
        try
        {
            var bytes = OpenPgpArmor.Decode(message.SignatureArmor, location);
            var obj = new PgpObjectFactory(bytes).NextPgpObject();
            if (obj is PgpSignatureList { Count: > 0 } list)
            {
                var signature = list[0];
                if (signature.SignatureType != PgpSignature.CanonicalTextDocument)
                {
                    throw new SignatureException(location, SignatureFailure.Malformed,
                        $"signature type 0x{signature.SignatureType:x2} is not a text signature (0x01)");
                }

                return signature;
            }
        }
        catch (Exception e) when (e is IOException or PgpException or InvalidContentException)
        {
            throw new SignatureException(location, SignatureFailure.Malformed,
                "signature block unreadable: " + e.Message);
        }

        throw new SignatureException(location, SignatureFailure.Malformed, "signature block holds no signature");
    }

    internal static string? IssuerFingerprint(PgpSignature signature)
    {
        var packet = signature.GetHashedSubPackets()?.GetIssuerFingerprint();
        return packet is null ? null : Convert.ToHexString(packet.GetFingerprint());
    }

    public static string Fingerprint(PgpPublicKey key) => Convert.ToHexString(key.GetFingerprint());

    public static IEnumerable<string> UserIds(PgpPublicKey key)
    {
        foreach (var id in key.GetUserIds())
        {
            yield return id;
        }
    }
}
