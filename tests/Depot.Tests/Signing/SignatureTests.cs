using System.Text;
using Depot.Configuration;
using Depot.Formats;
using Depot.Signing;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Tests.Signing;

public class SignatureTests
{
    internal const string FixtureFingerprint = "6640D90F8A1E84DD1142614C06BD5C3F48A372CC";

    internal static PgpPublicKeyRing FixturePublicKey() =>
        OpenPgpArmor.ReadKeyRings(File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")),
            "public.asc").Public.Single();

    internal static PgpSecretKeyRing FixtureSecretKey() =>
        OpenPgpArmor.ReadKeyRings(File.ReadAllText(TestData.Path("spack-1.2/keys/secret.asc")),
            "secret.asc").Secret.Single();

    private static IEnumerable<string> SignedFixtureFiles() =>
        Directory.EnumerateFiles(TestData.Path(TestData.V3Signed + "/v3/manifests/spec"), "*.json",
            SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(TestData.Path(TestData.V2Signed + "/build_cache"), "*.sig"));

    [Fact]
    public void EverySignedFixtureFileVerifiesWithTheFixtureKey()
    {
        var verifier = new SignatureVerifier([FixturePublicKey()]);
        var files = SignedFixtureFiles().ToList();
        Assert.Equal(8, files.Count);
        foreach (var file in files)
        {
            var verified = verifier.Verify(File.ReadAllText(file), file);
            Assert.Equal(FixtureFingerprint, verified.SignerFingerprint);
            Assert.Contains("Depot Fixture Key 1.2", verified.SignerUserId, StringComparison.Ordinal);
            var unsigned = file.Replace("mirror-signed", "mirror-unsigned", StringComparison.Ordinal);
            unsigned = unsigned.EndsWith(".sig", StringComparison.Ordinal) ? unsigned[..^4] : unsigned;
            Assert.Equal(File.ReadAllText(unsigned), verified.Text);
        }
    }

    [Theory]
    [InlineData("\"contentLength\":7831", "\"contentLength\":7832")]
    [InlineData("\"version\":3", "\"version\":4")]
    public void AOneByteChangeToTheTextIsABadSignature(string from, string to)
    {
        var file = SignedFixtureFiles().First(f => f.Contains("/greet/", StringComparison.Ordinal));
        var text = File.ReadAllText(file).Replace(from, to, StringComparison.Ordinal);
        var e = Assert.Throws<SignatureException>(() => new SignatureVerifier([FixturePublicKey()]).Verify(text, file));
        Assert.Equal(SignatureFailure.BadSignature, e.Failure);
        Assert.Equal("06BD5C3F48A372CC", e.SignerKeyId);
        Assert.StartsWith(file + ": BAD signature", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AOneByteChangeToTheSignatureIsRefused()
    {
        var file = SignedFixtureFiles().First();
        var text = File.ReadAllText(file);
        var armorStart = text.IndexOf("-----BEGIN PGP SIGNATURE-----", StringComparison.Ordinal) + 32;
        var i = text.IndexOf('\n', armorStart) + 40; // inside the base64 of the signature's MPI
        var flipped = text[..i] + (text[i] == 'A' ? 'B' : 'A') + text[(i + 1)..];
        var e = Assert.Throws<SignatureException>(() => new SignatureVerifier([FixturePublicKey()])
            .Verify(flipped, file));
        Assert.Contains(e.Failure, new[] { SignatureFailure.BadSignature, SignatureFailure.Malformed });
    }

    [Fact]
    public void AnUntrustedKeyIsNamedByIdAndFingerprint()
    {
        var file = SignedFixtureFiles().First();
        var e = Assert.Throws<SignatureException>(() => new SignatureVerifier([]).Verify(File.ReadAllText(file), file));
        Assert.Equal(SignatureFailure.UntrustedKey, e.Failure);
        Assert.Equal(FixtureFingerprint, e.SignerFingerprint);
        Assert.Contains("signed by key 06BD5C3F48A372CC (fingerprint " + FixtureFingerprint + "), which is not trusted",
            e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResigningAFixtureManifestReproducesGpgsBytes()
    {
        // RSA PKCS#1 v1.5 signatures are deterministic: same key, text, time and subpackets give gpg's exact bytes.
        var file = SignedFixtureFiles().First(f => f.Contains("/greet/", StringComparison.Ordinal));
        var original = File.ReadAllText(file);
        var message = ClearSignedMessage.Parse(original, file);
        var signature = (PgpSignatureList)new PgpObjectFactory(OpenPgpArmor.Decode(message.SignatureArmor, file))
            .NextPgpObject();
        var resigned = ClearSigner.Sign(message.Body, FixtureSecretKey().GetSecretKey(), signature[0].CreationTime);
        Assert.Equal(original, resigned);
    }

    [Fact]
    public void DashEscapingRoundTrips()
    {
        var key = KeyGenerator.Create("Dash Test", "dash@example.invalid", null, null, KeyAlgorithm.Ed25519);
        const string text = "-leading dash\n- already escaped?\nplain  \nlast";
        var signed = ClearSigner.Sign(text, key.GetSecretKey());
        Assert.Contains("\n- -leading dash\n", signed, StringComparison.Ordinal);
        var verified = new SignatureVerifier([new PgpPublicKeyRing(key.GetPublicKey().GetEncoded())])
            .Verify(signed, "t");
        Assert.Equal(text, verified.Text);
    }

    [Fact]
    public void SignaturesCarryExactlyOneHashHeaderAsSpackRequires()
    {
        var key = FixtureSecretKey().GetSecretKey();
        var signed = ClearSigner.Sign("{\n\"a\":1\n}", key);
        Assert.StartsWith("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n{\n\"a\":1\n}\n-----BEGIN PGP "
            + "SIGNATURE-----\n\n", signed, StringComparison.Ordinal);
        Assert.EndsWith("-----END PGP SIGNATURE-----\n", signed, StringComparison.Ordinal);
        Assert.DoesNotContain("Version:", signed, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExpiredKeyIsRefusedWhateverTimeTheSignatureClaims()
    {
        var created = DateTime.UtcNow.AddDays(-10);
        var key = KeyGenerator.Create("Old", "old@example.invalid", null, created.AddDays(1), KeyAlgorithm.Ed25519,
            created);
        var ring = new PgpPublicKeyRing(key.GetPublicKey().GetEncoded());
        foreach (var claimed in new[] { created.AddHours(1), created.AddDays(2) })
        {
            var signed = ClearSigner.Sign("text", key.GetSecretKey(), claimed);
            var e = Assert.Throws<SignatureException>(() => new SignatureVerifier([ring]).Verify(signed, "t"));
            Assert.Equal(SignatureFailure.KeyNotValid, e.Failure);
            Assert.Contains("which expired on "
                + created.AddDays(1).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture),
                e.Message, StringComparison.Ordinal);
        }

        // Judged by the clock: while the key was valid, the same signature was good.
        var atThatTime = new FixedClock(new DateTimeOffset(created.AddHours(2), TimeSpan.Zero));
        Assert.Equal("text",
            new SignatureVerifier([ring], atThatTime)
                .Verify(ClearSigner.Sign("text", key.GetSecretKey(), created.AddHours(1)), "t").Text);
    }

    [Fact]
    public void AKeyNewerThanItsSignatureIsRefused()
    {
        var key = KeyGenerator.Create("New", "new@example.invalid", null, null, KeyAlgorithm.Ed25519);
        var signed = ClearSigner.Sign("text", key.GetSecretKey(), DateTime.UtcNow.AddDays(-3));
        var e = Assert.Throws<SignatureException>(() => new SignatureVerifier([new PgpPublicKeyRing(key.GetPublicKey()
            .GetEncoded())]).Verify(signed, "t"));
        Assert.Equal(SignatureFailure.KeyNotValid, e.Failure);
        Assert.Contains("before the key was created", e.Message, StringComparison.Ordinal);
    }
}
