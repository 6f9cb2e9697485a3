using System.Collections.Concurrent;
using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>
/// The cryptographic check of one OpenPGP signature over the bytes it covers: documents (canonical text) and key
/// certifications (self-signatures, subkey bindings, revocations), whose hashed material is built here as RFC 4880
/// §5.2.4 says. RSA goes through the platform's RSA (see <see cref="TryVerifyRsa"/>); other algorithms through
/// BouncyCastle, whose signature objects are not thread-safe: callers serialise checks of shared signatures.
/// </summary>
internal sealed class SignatureMath
{
    private readonly ConcurrentDictionary<PgpPublicKey, RSAParameters> rsaParameters =
        new(ReferenceEqualityComparer.Instance);

    /// <summary>True when <paramref name="signature"/>, made by <paramref name="key"/>, covers
    /// <paramref name="data"/>.</summary>
    /// <exception cref="PgpException">The signature cannot be checked at all (unsupported or malformed).</exception>
    public bool Verifies(PgpSignature signature, PgpPublicKey key, byte[] data)
    {
        if (signature.KeyAlgorithm != key.Algorithm)
        {
            return false;
        }

        if (TryVerifyRsa(signature, key, data) is { } fast)
        {
            return fast;
        }

        signature.InitVerify(key);
        signature.Update(data);
        return signature.Verify();
    }

    /// <summary>
    /// A key certification (version 4 only, as GnuPG 2.2 makes them) that verifies; false for anything else,
    /// including signatures that cannot be parsed: a certification that does not check out grants nothing.
    /// </summary>
    public bool Certifies(PgpSignature signature, PgpPublicKey signer, byte[] material)
    {
        if (signature.Version != 4 || !NamesIssuer(signature, signer))
        {
            return false;
        }

        try
        {
            return Verifies(signature, signer, material);
        }
        catch (Exception e) when (e is PgpException or IOException or InvalidOperationException or ArgumentException
            or Org.BouncyCastle.Crypto.CryptoException or CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The hashed material of a key (0x99, two-octet length, key packet body), for each key in
    /// order.</summary>
    public static byte[] KeyMaterial(params PgpPublicKey[] keys)
    {
        using var buffer = new MemoryStream();
        foreach (var key in keys)
        {
            var body = key.PublicKeyPacket.GetEncodedContents();
            buffer.WriteByte(0x99);
            buffer.WriteByte((byte)(body.Length >> 8));
            buffer.WriteByte((byte)body.Length);
            buffer.Write(body);
        }

        return buffer.ToArray();
    }

    /// <summary>The hashed material of a user id certification: the key, then 0xB4, four-octet length, the
    /// id.</summary>
    public static byte[] UserIdMaterial(PgpPublicKey key, byte[] rawId)
    {
        using var buffer = new MemoryStream();
        buffer.Write(KeyMaterial(key));
        buffer.WriteByte(0xB4);
        buffer.WriteByte((byte)(rawId.Length >> 24));
        buffer.WriteByte((byte)(rawId.Length >> 16));
        buffer.WriteByte((byte)(rawId.Length >> 8));
        buffer.WriteByte((byte)rawId.Length);
        buffer.Write(rawId);
        return buffer.ToArray();
    }

    /// <summary>A signature that names its issuer (key id or fingerprint) must name this key.</summary>
    private static bool NamesIssuer(PgpSignature signature, PgpPublicKey key)
    {
        if (signature.KeyId != 0 && signature.KeyId != key.KeyId)
        {
            return false;
        }

        var fingerprint = signature.GetHashedSubPackets()?.GetIssuerFingerprint()?.GetFingerprint();
        return fingerprint is null || fingerprint.AsSpan().SequenceEqual(key.GetFingerprint());
    }

    /// <summary>
    /// RSA signatures are checked with the platform's RSA: BouncyCastle re-validates the modulus (Miller-Rabin rounds
    /// on a 4096-bit number) every time a key is used, some 80 ms per signature. The signed digest is the OpenPGP v4
    /// one: hash(data, then the signature's hashed trailer). Returns null when this path does not apply.
    /// </summary>
    private bool? TryVerifyRsa(PgpSignature signature, PgpPublicKey key, byte[] data)
    {
        if (key.Algorithm is not (PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaSign)
            || signature.Version != 4)
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

        var parameters = rsaParameters.GetOrAdd(key, _ => new RSAParameters
        {
            Modulus = rsaKey.Modulus.ToByteArrayUnsigned(),
            Exponent = rsaKey.PublicExponent.ToByteArrayUnsigned(),
        });
        using var hash = IncrementalHash.CreateHash(name.Value);
        hash.AppendData(data);
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
}
