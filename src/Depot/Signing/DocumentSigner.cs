using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>
/// Makes the OpenPGP signature packet of a clearsigned document with one secret key, as often and from as many
/// threads as a push needs. The packet is what <c>gpg --clearsign</c> writes (version 4, canonical text, SHA-512, the
/// issuer fingerprint and creation time hashed, the issuer key id unhashed, an old-format header). RSA keys sign
/// through the platform's RSA (OpenSSL): BouncyCastle's managed private-key operation costs ~25 ms for RSA 4096, the
/// platform's a few, and platform objects can sign side by side (one per thread, pooled). PKCS#1 v1.5 is
/// deterministic, so both paths give the same bytes. Other algorithms (EdDSA, ECDSA) sign through BouncyCastle, one
/// at a time (its generator is not thread-safe). The pooled platform keys are released with the signer (their handles
/// are finalizable), so a signer needs no disposing. An unprotected RSA key's numbers are read from its packet, not
/// through BouncyCastle's key objects: those test the modulus for primality when made (~0.15 s for RSA 4096, before
/// the first entry of a push or sign could be signed).
/// </summary>
public sealed class DocumentSigner
{
    private readonly PgpSecretKey key;
    private readonly PgpPrivateKey? privateKey;
    private readonly RSAParameters? rsa;
    private readonly ConcurrentBag<RSA> idleRsa = [];
    private readonly Lock bouncyCastle = new();

    /// <summary>A signer for <paramref name="key"/> (unprotected: Depot's keys have no passphrase).</summary>
    public DocumentSigner(PgpSecretKey key)
    {
        this.key = key;
        rsa = UnprotectedRsaParameters(key);
        privateKey = rsa is null ? key.ExtractPrivateKey(Array.Empty<char>()) : null;
    }

    /// <summary>True when RSA signatures go through the platform's RSA (the managed path is ~8× slower).</summary>
    internal bool UsesPlatformRsa => rsa is not null;

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
            generator.InitSign(PgpSignature.CanonicalTextDocument, privateKey!);
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

    /// <summary>
    /// The RSA key as .NET wants it (D as long as the modulus, the CRT values half as long, big-endian, zero-padded on
    /// the left), read from an unprotected secret key packet (RFC 4880 §5.5.3: MPIs d, p, q, u and a two-octet sum of
    /// their bytes, or their SHA-1); null for other algorithms, a protected key or a packet that does not add up, which
    /// then go through BouncyCastle's checked extraction (and its errors).
    /// </summary>
    private static RSAParameters? UnprotectedRsaParameters(PgpSecretKey key)
    {
        if (key.PublicKey.PublicKeyPacket.Key is not RsaPublicBcpgKey publicKey || key.S2kUsage != 0)
        {
            return null;
        }

        var packet = new BcpgInputStream(new MemoryStream(key.GetEncoded())).ReadPacket() as SecretKeyPacket;
        var data = packet?.GetSecretKeyData();
        var length = data is null ? -1 : CheckedLength(data);
        if (length < 0)
        {
            return null;
        }

        // BouncyCastle's RsaSecretBcpgKey reads the MPIs and derives the CRT values, without checking the modulus.
        var secret = new RsaSecretBcpgKey(new BcpgInputStream(new MemoryStream(data!, 0, length)));
        var modulus = publicKey.Modulus.ToByteArrayUnsigned();
        var half = (modulus.Length + 1) / 2;
        return new RSAParameters
        {
            Modulus = modulus,
            Exponent = publicKey.PublicExponent.ToByteArrayUnsigned(),
            D = Padded(secret.PrivateExponent, modulus.Length),
            P = Padded(secret.PrimeP, half),
            Q = Padded(secret.PrimeQ, half),
            DP = Padded(secret.PrimeExponentP, half),
            DQ = Padded(secret.PrimeExponentQ, half),
            InverseQ = Padded(secret.CrtCoefficient, half),
        };
    }

    /// <summary>How many bytes of unprotected secret key data are MPIs: all but the two-octet sum gpg writes or the
    /// SHA-1 digest BouncyCastle writes (Depot's own keys); -1 when neither adds up.</summary>
    private static int CheckedLength(byte[] data)
    {
#pragma warning disable CA5350 // RFC 4880's integrity check of secret key data is SHA-1; it guards against damage
        if (data.Length > SHA1.HashSizeInBytes
            && SHA1.HashData(data.AsSpan(0, data.Length - SHA1.HashSizeInBytes))
                .AsSpan().SequenceEqual(data.AsSpan(data.Length - SHA1.HashSizeInBytes)))
        {
            return data.Length - SHA1.HashSizeInBytes;
        }
#pragma warning restore CA5350

        var sum = 0;
        for (var i = 0; i < data.Length - 2; i++)
        {
            sum += data[i];
        }

        return data.Length > 2 && (ushort)sum == BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(data.Length - 2))
            ? data.Length - 2
            : -1;
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
