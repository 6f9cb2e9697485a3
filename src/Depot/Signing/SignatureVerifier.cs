using System.Globalization;
using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>A document whose signature checked out: the signed text and who signed it.</summary>
public sealed record VerifiedText(string Text, string SignerFingerprint, string SignerUserId);

/// <summary>
/// Verifies clearsigned documents against a set of trusted public keys, as <c>gpg --verify</c> does for Spack: a good
/// signature from any trusted key (or its subkey) is accepted.
/// </summary>
public sealed class SignatureVerifier
{
    private readonly Dictionary<long, (PgpPublicKey Key, PgpPublicKeyRing Ring)> byKeyId = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, RSAParameters> rsaParameters = new();

    public SignatureVerifier(IEnumerable<PgpPublicKeyRing> trusted)
    {
        foreach (var ring in trusted)
        {
            foreach (PgpPublicKey key in ring.GetPublicKeys())
            {
                byKeyId.TryAdd(key.KeyId, (key, ring));
            }
        }
    }

    public int KeyCount => byKeyId.Count;

    /// <exception cref="SignatureException">The signature is missing, malformed, untrusted or does not match.</exception>
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
        var fingerprint = IssuerFingerprint(signature);
        if (!byKeyId.TryGetValue(signature.KeyId, out var signer))
        {
            var who = fingerprint is null ? $"key {keyId}" : $"key {keyId} (fingerprint {fingerprint})";
            throw new SignatureException(location, SignatureFailure.UntrustedKey, $"signed by {who}, which is not trusted", keyId, fingerprint);
        }

        var signerFingerprint = Fingerprint(signer.Ring.GetPublicKey());
        var userId = UserIds(signer.Ring.GetPublicKey()).FirstOrDefault() ?? "";
        bool ok;
        try
        {
            var canonical = ClearSigner.CanonicalText(message.Body);
            if (TryVerifyRsa(signature, signer.Key, canonical) is { } fast)
            {
                ok = fast;
            }
            else
            {
                signature.InitVerify(signer.Key);
                signature.Update(canonical);
                ok = signature.Verify();
            }
        }
        catch (PgpException e)
        {
            throw new SignatureException(location, SignatureFailure.Malformed, "signature cannot be checked: " + e.Message, keyId, signerFingerprint);
        }

        if (!ok)
        {
            throw new SignatureException(location, SignatureFailure.BadSignature,
                $"BAD signature from key {keyId} ({userId}): the content was changed after signing or the signature is damaged", keyId, signerFingerprint);
        }

        CheckValidity(signer.Ring.GetPublicKey(), signer.Key, signature, location, keyId, signerFingerprint);
        return new VerifiedText(message.Body, signerFingerprint, userId);
    }

    /// <summary>
    /// RSA signatures are checked with the platform's RSA: BouncyCastle re-validates the modulus (Miller-Rabin rounds
    /// on a 4096-bit number) every time a key is used, some 80 ms per signature. The signed digest is the OpenPGP v4
    /// one: hash(canonical text, then the signature's hashed trailer). Returns null when this path does not apply.
    /// </summary>
    private bool? TryVerifyRsa(PgpSignature signature, PgpPublicKey key, byte[] canonical)
    {
        if (key.Algorithm is not (PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaSign) || signature.Version != 4)
        {
            return null;
        }

        HashAlgorithmName? name = signature.HashAlgorithm switch
        {
            HashAlgorithmTag.Sha256 => HashAlgorithmName.SHA256,
            HashAlgorithmTag.Sha384 => HashAlgorithmName.SHA384,
            HashAlgorithmTag.Sha512 => HashAlgorithmName.SHA512,
            _ => null,
        };
        if (name is null || key.PublicKeyPacket.Key is not RsaPublicBcpgKey rsaKey)
        {
            return null;
        }

        var parameters = rsaParameters.GetOrAdd(key.KeyId, _ => new RSAParameters
        {
            Modulus = rsaKey.Modulus.ToByteArrayUnsigned(),
            Exponent = rsaKey.PublicExponent.ToByteArrayUnsigned(),
        });
        using var hash = IncrementalHash.CreateHash(name.Value);
        hash.AppendData(canonical);
        hash.AppendData(signature.GetSignatureTrailer());
        var digest = hash.GetHashAndReset();
        var value = signature.GetSignature();
        if (value.Length > parameters.Modulus!.Length)
        {
            return false;
        }

        var padded = new byte[parameters.Modulus.Length];
        value.CopyTo(padded, padded.Length - value.Length);
        using var rsa = RSA.Create(parameters);
        return rsa.VerifyHash(digest, padded, name.Value, RSASignaturePadding.Pkcs1);
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
            throw new SignatureException(location, SignatureFailure.Malformed, "signature block unreadable: " + e.Message);
        }

        throw new SignatureException(location, SignatureFailure.Malformed, "signature block holds no signature");
    }

    private static void CheckValidity(PgpPublicKey primary, PgpPublicKey key, PgpSignature signature, string location,
        string keyId, string fingerprint)
    {
        if (primary.HasRevocation() || key.HasRevocation())
        {
            throw new SignatureException(location, SignatureFailure.KeyNotValid, $"signed by key {keyId}, which has been revoked", keyId, fingerprint);
        }

        var validSeconds = key.GetValidSeconds();
        if (validSeconds > 0 && signature.CreationTime > key.CreationTime.AddSeconds(validSeconds))
        {
            throw new SignatureException(location, SignatureFailure.KeyNotValid,
                $"signed by key {keyId} after the key expired ({key.CreationTime.AddSeconds(validSeconds):yyyy-MM-dd})", keyId, fingerprint);
        }
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
