using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Parameters;

namespace Depot.Signing;

/// <summary>
/// Makes the OpenPGP signature packet of a clearsigned document with one secret key, as often and from as many
/// threads as a push needs. The packet is what <c>gpg --clearsign</c> writes (version 4, canonical text, SHA-512, the
/// issuer fingerprint and creation time hashed, the issuer key id unhashed, an old-format header). RSA keys sign
/// through the platform's RSA (OpenSSL): BouncyCastle's managed private-key operation costs ~25 ms for RSA 4096, the
/// platform's a few, and platform objects can sign side by side (one per thread, pooled). PKCS#1 v1.5 is
/// deterministic, so both paths give the same bytes. Other algorithms (EdDSA, ECDSA) sign through BouncyCastle, one
/// at a time (its generator is not thread-safe). The pooled platform keys are released with the signer (their handles
/// are finalizable), so a signer needs no disposing.
/// </summary>
public sealed class DocumentSigner
{
    private readonly PgpSecretKey key;
    private readonly PgpPrivateKey privateKey;
    private readonly RSAParameters? rsa;
    private readonly ConcurrentBag<RSA> idleRsa = [];
    private readonly Lock bouncyCastle = new();

    /// <summary>A signer for <paramref name="key"/> (unprotected: Depot's keys have no passphrase).</summary>
    public DocumentSigner(PgpSecretKey key)
    {
        this.key = key;
        privateKey = key.ExtractPrivateKey(Array.Empty<char>());
        rsa = privateKey.Key is RsaPrivateCrtKeyParameters crt ? PlatformParameters(crt) : null;
    }

    /// <summary>The public half of the signing key.</summary>
    public PgpPublicKey PublicKey => key.PublicKey;

    /// <summary>The binary signature packet over <paramref name="canonicalText"/> (see
    /// <see cref="ClearSigner.CanonicalText"/>), made at <paramref name="signingTime"/>.</summary>
    public byte[] Sign(byte[] canonicalText, DateTime signingTime) =>
        rsa is { } parameters ? SignRsa(canonicalText, signingTime, parameters) : SignBouncyCastle(canonicalText,
            signingTime);

    private byte[] SignBouncyCastle(byte[] canonicalText, DateTime signingTime)
    {
        lock (bouncyCastle)
        {
            var generator = new PgpSignatureGenerator(key.PublicKey.Algorithm, HashAlgorithmTag.Sha512);
            generator.InitSign(PgpSignature.CanonicalTextDocument, privateKey);
            var hashed = new PgpSignatureSubpacketGenerator();
            hashed.SetIssuerFingerprint(false, key.PublicKey);
            hashed.SetSignatureCreationTime(false, signingTime);
            generator.SetHashedSubpackets(hashed.Generate());
            var unhashed = new PgpSignatureSubpacketGenerator();
            unhashed.SetIssuerKeyID(false, key.KeyId);
            generator.SetUnhashedSubpackets(unhashed.Generate());
            generator.Update(canonicalText);
            return generator.Generate().GetEncoded();
        }
    }

    /// <summary>The v4 signature packet laid out by hand (RFC 4880 §5.2.3) around the platform's RSA
    /// signature.</summary>
    private byte[] SignRsa(byte[] canonicalText, DateTime signingTime, RSAParameters parameters)
    {
        // Hashed part: version, type, algorithms, then the hashed subpackets (fingerprint, creation time).
        var fingerprint = key.PublicKey.GetFingerprint();
        var hashedLength = 2 + 1 + fingerprint.Length + 2 + 4;
        var head = new byte[6 + hashedLength];
        head[0] = 4;
        head[1] = PgpSignature.CanonicalTextDocument;
        head[2] = (byte)key.PublicKey.Algorithm;
        head[3] = (byte)HashAlgorithmTag.Sha512;
        BinaryPrimitives.WriteUInt16BigEndian(head.AsSpan(4), (ushort)hashedLength);
        var at = 6;
        head[at++] = (byte)(2 + fingerprint.Length);
        head[at++] = (byte)SignatureSubpacketTag.IssuerFingerprint;
        head[at++] = 4;
        fingerprint.CopyTo(head, at);
        at += fingerprint.Length;
        head[at++] = 5;
        head[at++] = (byte)SignatureSubpacketTag.CreationTime;
        var utc = signingTime.Kind == DateTimeKind.Local
            ? signingTime.ToUniversalTime()
            : DateTime.SpecifyKind(signingTime, DateTimeKind.Utc);
        var seconds = new DateTimeOffset(utc).ToUnixTimeSeconds();
        BinaryPrimitives.WriteUInt32BigEndian(head.AsSpan(at), (uint)seconds);

        var trailer = new byte[6];
        trailer[0] = 4;
        trailer[1] = 0xFF;
        BinaryPrimitives.WriteUInt32BigEndian(trailer.AsSpan(2), (uint)head.Length);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        hash.AppendData(canonicalText);
        hash.AppendData(head);
        hash.AppendData(trailer);
        var digest = hash.GetHashAndReset();
        var value = RsaSign(digest, parameters);

        var skip = 0;
        while (skip < value.Length - 1 && value[skip] == 0)
        {
            skip++;
        }

        var bits = (value.Length - skip - 1) * 8 + (32 - int.LeadingZeroCount(value[skip]));
        var bodyLength = head.Length + 2 + 10 + 2 + 2 + value.Length - skip;
        using var packet = new MemoryStream(3 + bodyLength);
        if (bodyLength < 256)
        {
            packet.WriteByte(0x88); // old format, tag 2 (signature), one-octet length: as gpg writes it
        }
        else
        {
            packet.WriteByte(0x89); // two-octet length
            packet.WriteByte((byte)(bodyLength >> 8));
        }

        packet.WriteByte((byte)bodyLength);
        packet.Write(head);
        packet.Write([0, 10, 9, (byte)SignatureSubpacketTag.IssuerKeyId]);
        Span<byte> keyId = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(keyId, key.KeyId);
        packet.Write(keyId);
        packet.Write(digest.AsSpan(0, 2));
        packet.WriteByte((byte)(bits >> 8));
        packet.WriteByte((byte)bits);
        packet.Write(value.AsSpan(skip));
        return packet.ToArray();
    }

    private byte[] RsaSign(byte[] digest, RSAParameters parameters)
    {
        var platform = idleRsa.TryTake(out var idle) ? idle : RSA.Create(parameters);
        try
        {
            return platform.SignHash(digest, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1);
        }
        finally
        {
            idleRsa.Add(platform);
        }
    }

    /// <summary>The key as .NET wants it: D as long as the modulus, the CRT values half as long, big-endian,
    /// zero-padded on the left.</summary>
    private static RSAParameters PlatformParameters(RsaPrivateCrtKeyParameters crt)
    {
        var modulus = crt.Modulus.ToByteArrayUnsigned();
        var half = (modulus.Length + 1) / 2;
        return new RSAParameters
        {
            Modulus = modulus,
            Exponent = crt.PublicExponent.ToByteArrayUnsigned(),
            D = Padded(crt.Exponent, modulus.Length),
            P = Padded(crt.P, half),
            Q = Padded(crt.Q, half),
            DP = Padded(crt.DP, half),
            DQ = Padded(crt.DQ, half),
            InverseQ = Padded(crt.QInv, half),
        };
    }

    private static byte[] Padded(Org.BouncyCastle.Math.BigInteger value, int length)
    {
        var bytes = value.ToByteArrayUnsigned();
        if (bytes.Length >= length)
        {
            return bytes;
        }

        var padded = new byte[length];
        bytes.CopyTo(padded, length - bytes.Length);
        return padded;
    }
}
