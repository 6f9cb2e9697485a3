using System.Diagnostics;
using Depot.Signing;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Tests.Signing;

/// <summary>
/// <see cref="DocumentSigner"/> signs RSA through the platform's RSA and lays out the packet by hand: the bytes must be
/// those BouncyCastle's generator (and gpg, see <see cref="SignatureTests"/>) makes, for every key size, and signing
/// from many threads at once must give the same bytes as one at a time.
/// </summary>
public class DocumentSignerTests
{
    private static readonly DateTime SigningTime = new(2026, 12, 6, 12, 34, 56, DateTimeKind.Utc);

    [Theory]
    [InlineData("fixture")]
    [InlineData("rsa2048")]
    [InlineData("rsa1024")]
    [InlineData("ed25519")]
    public void PacketsAreByteForByteBouncyCastles(string which)
    {
        var key = KeyFor(which);
        var signer = new DocumentSigner(key);
        string[] texts = ["", "{\"spec\":1}", "line one  \r\nline two\t\n- dashed", new string('x', 100_000)];
        foreach (var text in texts)
        {
            var canonical = ClearSigner.CanonicalText(text);
            var expected = Reference(key, canonical);
            var actual = signer.Sign(canonical, SigningTime);
            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(actual));
        }
    }

    [Theory]
    [InlineData("fixture", true)] // made by gpg: its secret numbers end in a two-octet sum
    [InlineData("rsa2048", true)] // made by Depot: they end in a SHA-1 digest
    [InlineData("rsa1024", true)]
    [InlineData("ed25519", false)]
    public void RsaKeysSignThroughThePlatformWhoeverMadeThem(string which, bool platform)
    {
        Assert.Equal(platform, new DocumentSigner(KeyFor(which)).UsesPlatformRsa);
    }

    [Fact]
    public void SigningFromManyThreadsGivesTheSameBytes()
    {
        var signer = new DocumentSigner(SignatureTests.FixtureSecretKey().GetSecretKey());
        var texts = Enumerable.Range(0, 24).Select(i => ClearSigner.CanonicalText($"entry {i}")).ToArray();
        var one = texts.Select(t => signer.Sign(t, SigningTime)).ToArray();
        var many = new byte[texts.Length][];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => many[i] = signer.Sign(texts[i], SigningTime));
        Assert.Equal(one, many);
    }

    [Fact]
    public void AnRsa4096SignatureTakesAFractionOfBouncyCastlesTime()
    {
        // BouncyCastle's managed RSA 4096 private-key operation took ~25 ms here, the platform's ~4 ms on one core.
        // Measured side by side, interleaved, so a loaded machine slows both alike; catches a fall back to the
        // managed path.
        var key = SignatureTests.FixtureSecretKey().GetSecretKey();
        var signer = new DocumentSigner(key);
        var text = ClearSigner.CanonicalText("warm-up");
        signer.Sign(text, SigningTime);
        Reference(key, text);
        TimeSpan platform = default, managed = default;
        for (var i = 0; i < 8; i++)
        {
            var clock = Stopwatch.StartNew();
            signer.Sign(text, SigningTime);
            platform += clock.Elapsed;
            clock.Restart();
            Reference(key, text);
            managed += clock.Elapsed;
        }

        Assert.True(platform * 2.5 < managed, $"platform {platform.TotalMilliseconds / 8:F1} ms, BouncyCastle "
            + $"{managed.TotalMilliseconds / 8:F1} ms per RSA 4096 signature");
    }

    private static PgpSecretKey KeyFor(string which) => which switch
    {
        "fixture" => SignatureTests.FixtureSecretKey().GetSecretKey(),
        "rsa2048" => KeyGenerator.Create("Rsa Test", "rsa@example.invalid", null, null, KeyAlgorithm.Rsa2048)
            .GetSecretKey(),
        "rsa1024" => Rsa1024(),
        _ => KeyGenerator.Create("Ed Test", "ed@example.invalid", null, null, KeyAlgorithm.Ed25519).GetSecretKey(),
    };

    /// <summary>A 1024-bit RSA key: its signature packet is short enough for gpg's one-octet length
    /// header.</summary>
    private static PgpSecretKey Rsa1024()
    {
        var generator = new Org.BouncyCastle.Crypto.Generators.RsaKeyPairGenerator();
        generator.Init(new Org.BouncyCastle.Crypto.Parameters.RsaKeyGenerationParameters(
            Org.BouncyCastle.Math.BigInteger.ValueOf(65537), new Org.BouncyCastle.Security.SecureRandom(), 1024, 25));
        var pair = new PgpKeyPair(PublicKeyAlgorithmTag.RsaGeneral, generator.GenerateKeyPair(), SigningTime);
        return new PgpSecretKey(PgpSignature.DefaultCertification, pair, "small <small@example.invalid>",
            SymmetricKeyAlgorithmTag.Null, Array.Empty<char>(), true, null, null,
            new Org.BouncyCastle.Security.SecureRandom());
    }

    /// <summary>The signature as BouncyCastle's own generator makes it, with gpg's subpackets.</summary>
    private static byte[] Reference(PgpSecretKey key, byte[] canonical)
    {
        var generator = new PgpSignatureGenerator(key.PublicKey.Algorithm, HashAlgorithmTag.Sha512);
        generator.InitSign(PgpSignature.CanonicalTextDocument, key.ExtractPrivateKey(Array.Empty<char>()));
        var hashed = new PgpSignatureSubpacketGenerator();
        hashed.SetIssuerFingerprint(false, key.PublicKey);
        hashed.SetSignatureCreationTime(false, SigningTime);
        generator.SetHashedSubpackets(hashed.Generate());
        var unhashed = new PgpSignatureSubpacketGenerator();
        unhashed.SetIssuerKeyID(false, key.KeyId);
        generator.SetUnhashedSubpackets(unhashed.Generate());
        generator.Update(canonical);
        return generator.Generate().GetEncoded();
    }
}
