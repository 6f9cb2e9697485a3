using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;

namespace Depot.Signing;

/// <summary>Key algorithms Depot can create.</summary>
public enum KeyAlgorithm
{
    /// <summary>RSA 4096, what <c>spack gpg create</c> makes (the default).</summary>
    Rsa4096,

    Rsa2048,

    /// <summary>Ed25519 (OpenPGP v4 EdDSA), small and fast; GnuPG 2.2 and Spack's gpg verify it.</summary>
    Ed25519,
}

/// <summary>Creates signing keys like <c>spack gpg create</c>: a sign-only primary key with no passphrase.</summary>
public static class KeyGenerator
{
    public const string DefaultComment = "Depot signing key";

    public static PgpSecretKeyRing Create(string name, string email, string? comment = DefaultComment,
        DateTimeOffset? expires = null, KeyAlgorithm algorithm = KeyAlgorithm.Rsa4096, DateTime? now = null)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(['<', '>', '(', ')']) >= 0)
        {
            throw new DepotException(ErrorKind.Usage,
                $"invalid key name '{name}': use a plain name without <, >, ( or )");
        }

        if (string.IsNullOrWhiteSpace(email) || !email.Contains('@', StringComparison.Ordinal)
            || email.IndexOfAny(['<', '>', ' ']) >= 0)
        {
            throw new DepotException(ErrorKind.Usage, $"invalid email '{email}'");
        }

        var created = now ?? DateTime.UtcNow;
        created = created.AddTicks(-(created.Ticks % TimeSpan.TicksPerSecond));
        if (expires is { } e && e <= created)
        {
            throw new DepotException(ErrorKind.Usage, $"expiry {e:yyyy-MM-dd} is not in the future");
        }

        var random = new SecureRandom();
        var pair = algorithm switch
        {
            KeyAlgorithm.Ed25519 =>
                new PgpKeyPair(PublicKeyAlgorithmTag.EdDsa_Legacy,
                    Generate(new Ed25519KeyPairGenerator(), new Ed25519KeyGenerationParameters(random)), created),
            _ => new PgpKeyPair(PublicKeyAlgorithmTag.RsaGeneral,
                Generate(new RsaKeyPairGenerator(),
                    new RsaKeyGenerationParameters(BigInteger.ValueOf(0x10001), random,
                algorithm == KeyAlgorithm.Rsa2048 ? 2048 : 4096, 100)), created),
        };

        var hashed = new PgpSignatureSubpacketGenerator();
        hashed.SetSignatureCreationTime(false, created); // the self-signature is as old as the key, as gpg makes it
        hashed.SetKeyFlags(false, PgpKeyFlags.CanCertify | PgpKeyFlags.CanSign);
        hashed.SetPreferredHashAlgorithms(false,
            [(int)HashAlgorithmTag.Sha512, (int)HashAlgorithmTag.Sha384, (int)HashAlgorithmTag.Sha256,
                (int)HashAlgorithmTag.Sha224]);
        hashed.SetPreferredSymmetricAlgorithms(false,
            [(int)SymmetricKeyAlgorithmTag.Aes256, (int)SymmetricKeyAlgorithmTag.Aes192,
                (int)SymmetricKeyAlgorithmTag.Aes128]);
        hashed.SetPreferredCompressionAlgorithms(false,
            [(int)CompressionAlgorithmTag.ZLib, (int)CompressionAlgorithmTag.BZip2, (int)CompressionAlgorithmTag.Zip]);
        hashed.SetFeature(false, Org.BouncyCastle.Bcpg.Sig.Features.FEATURE_MODIFICATION_DETECTION);
        hashed.SetIssuerFingerprint(false, pair.PublicKey);
        if (expires is { } expiry)
        {
            hashed.SetKeyExpirationTime(false, (long)(expiry.UtcDateTime - created).TotalSeconds);
        }

        var userId = string.IsNullOrWhiteSpace(comment) ? $"{name} <{email}>" : $"{name} ({comment}) <{email}>";
        var generator = new PgpKeyRingGenerator(PgpSignature.PositiveCertification, pair, userId,
            SymmetricKeyAlgorithmTag.Null,
            HashAlgorithmTag.Sha512, Array.Empty<char>(), true, hashed.Generate(), null, random);
        return generator.GenerateSecretKeyRing();
    }

    private static AsymmetricCipherKeyPair Generate(IAsymmetricCipherKeyPairGenerator generator,
        KeyGenerationParameters parameters)
    {
        generator.Init(parameters);
        return generator.GenerateKeyPair();
    }
}
