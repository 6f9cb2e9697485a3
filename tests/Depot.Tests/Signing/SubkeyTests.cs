using Depot.Layout.Detection;
using Depot.Operations;
using Depot.Configuration;
using Depot.Signing;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Tests.Signing;

/// <summary>
/// Issue 14: only a trusted primary key, or a subkey it bound itself as a signing key, may sign; every binding and
/// revocation counts only when its signature verifies. Keys made and revoked by the real gpg.
/// </summary>
public sealed class SubkeyTests(GpgSubkeyFixture gpgKey) : IClassFixture<GpgSubkeyFixture>
{
    private const string Manifest = GpgSubkeyFixture.Manifest;

    private static PgpPublicKeyRing Ring(string armored) => OpenPgpArmor.ReadKeyRings(armored, "key").Public.Single();

    private static SignatureException Refused(PgpPublicKeyRing ring, string signed) =>
        Assert.Throws<SignatureException>(() => new SignatureVerifier([ring]).Verify(signed, "m.json.sig"));

    [Fact]
    public void ARogueKeyAppendedAsASubkeyWithoutABindingCannotSign()
    {
        var rogue = RogueKeys.Create();
        var rogueFingerprint = SignatureVerifier.Fingerprint(rogue.GetPublicKey());
        var tampered = RogueKeys.WithUnboundSubkey(SignatureTests.FixturePublicKey(), rogue.GetPublicKey());
        Assert.Equal([SignatureTests.FixtureFingerprint, rogueFingerprint],
            tampered.GetPublicKeys().Cast<PgpPublicKey>().Select(SignatureVerifier.Fingerprint));
        var signed = ClearSigner.Sign(Manifest, rogue.GetSecretKey());

        // The signature itself is good: trusting the rogue key on its own accepts it.
        Assert.Equal(rogueFingerprint,
            new SignatureVerifier([new PgpPublicKeyRing(rogue.GetPublicKey().GetEncoded())])
                .Verify(signed, "m").SignerFingerprint);

        var e = Refused(tampered, signed);
        Assert.Equal(SignatureFailure.NotASigningKey, e.Failure);
        Assert.Equal(rogueFingerprint, e.SignerFingerprint);
        Assert.Equal(SignatureTests.FixtureFingerprint, e.PrimaryFingerprint);
        Assert.Equal($"m.json.sig: signed by key {rogueFingerprint[^16..]} (fingerprint {rogueFingerprint}), which is "
            + "not a signing subkey of trusted key "
            + $"{SignatureTests.FixtureFingerprint}: no valid binding signature from that key", e.Message);

        // The same key ring still accepts what the real key signed.
        var genuine = Directory.EnumerateFiles(TestData.Path(TestData.V3Signed + "/v3/manifests/spec"), "*.json",
            SearchOption.AllDirectories).First();
        Assert.Equal(SignatureTests.FixtureFingerprint,
            new SignatureVerifier([tampered]).Verify(File.ReadAllText(genuine), genuine).SignerFingerprint);
    }

    [Fact]
    public void AKeyWithAnUnboundSubkeyIsStoredWithoutItWhetherNewOrAlreadyTrusted()
    {
        var original = File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc"));
        var tampered = RogueKeys.Armored(RogueKeys.WithUnboundSubkey(SignatureTests.FixturePublicKey(),
            RogueKeys.Create().GetPublicKey()));

        using var fresh = new TempDir();
        var keyring = Keyring.Open(new DepotHome(fresh.Path).KeysFolder);
        keyring.Import(tampered, "mirror key", "mirror");
        Assert.Equal(original, keyring.ExportPublic(SignatureTests.FixtureFingerprint));

        using var trusted = new TempDir();
        keyring = Keyring.Open(new DepotHome(trusted.Path).KeysFolder);
        keyring.Import(original, "public.asc", "public.asc");
        keyring.Import(tampered, "mirror key", "mirror");
        Assert.Equal(original, keyring.ExportPublic(SignatureTests.FixtureFingerprint));
        Assert.Single(Assert.Single(keyring.TrustedRings()).GetPublicKeys());
    }

    [Fact]
    public void AGpgSigningSubkeySignsForItsPrimaryAndIsNamed()
    {
        Assert.Contains("Good signature",
            gpgKey.Gpg.RunOk("--verify", gpgKey.Gpg.FilePath(gpgKey.SigningSubkey + ".sig")), StringComparison.Ordinal);
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        Assert.Equal(gpgKey.Primary, Assert.Single(keyring.Import(gpgKey.PublicKey, "key.asc", "key.asc")).Fingerprint);
        Assert.Equal(4, Assert.Single(keyring.TrustedRings()).GetPublicKeys().Count()); // gpg's bound subkeys are kept

        var verified = new SignatureVerifier(keyring.TrustedRings()).Verify(gpgKey.SignedBySubkey, "m.json.sig");
        Assert.Equal(Manifest, verified.Text);
        Assert.Equal(gpgKey.Primary, verified.SignerFingerprint);
        Assert.Equal(gpgKey.SigningSubkey, verified.SigningKeyFingerprint);
        Assert.Equal(GpgSubkeyFixture.UserId, verified.SignerUserId);
    }

    [Fact]
    public void AKeyWhosePrimaryOnlyCertifiesSignsWithASigningSubkey()
    {
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        keyring.Import(gpgKey.SecretKey, "secret.asc", "secret.asc");
        var signingKey = keyring.SigningKey();
        Assert.Contains(SignatureVerifier.Fingerprint(signingKey.PublicKey),
            new[] { gpgKey.SigningSubkey, gpgKey.RevokedSubkey });

        var signed = ClearSigner.Sign(Manifest, signingKey);
        var verified = new SignatureVerifier(keyring.TrustedRings()).Verify(signed, "m");
        Assert.Equal(gpgKey.Primary, verified.SignerFingerprint);
        File.WriteAllText(gpgKey.Gpg.FilePath("depot-signed.sig"), signed);
        Assert.Contains("Good signature", gpgKey.Gpg.RunOk("--verify", gpgKey.Gpg.FilePath("depot-signed.sig")),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningAMirrorAgainWithASubkeyLeavesItsOwnSignaturesAlone()
    {
        using var home = new TempDir();
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        keyring.Import(gpgKey.SecretKey, "secret.asc", "secret.asc");
        var store = new Depot.Storage.LocalDirectoryStore(mirror.Path);

        var first = await Depot.Operations.SignOperation.RunAsync(Mirror.Of(store), keyring.SigningKey(), force: false,
            cancellationToken: TestContext.Current.CancellationToken);
        var again = await Depot.Operations.SignOperation.RunAsync(Mirror.Of(store), keyring.SigningKey(), force: false,
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(first.Signed > 0);
        Assert.Equal((0, first.Signed), (again.Signed, again.AlreadySigned));
        var layouts = await BuildCache.DetectAsync(store, TestContext.Current.CancellationToken);
        var verified = await Depot.Operations.VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring,
            mirror.Path)), new Depot.Operations.VerifyOptions([]),
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(verified.Ok, string.Join("\n", verified.Failures));
        Assert.Equal(first.Signed, verified.Signed);
    }

    [Fact]
    public void APrimaryWhoseFlagsExcludeSigningCannotSign()
    {
        var secret = OpenPgpArmor.ReadKeyRings(gpgKey.SecretKey, "secret").Secret.Single();
        var signed = ClearSigner.Sign(Manifest, secret.GetSecretKey());
        var e = Refused(Ring(gpgKey.PublicKey), signed);
        Assert.Equal(SignatureFailure.NotASigningKey, e.Failure);
        Assert.Contains("which may not sign: its key flags (0x01) do not include signing (0x02)", e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void AnEncryptionSubkeyCannotSign()
    {
        var secret = OpenPgpArmor.ReadKeyRings(gpgKey.SecretKey, "secret").Secret.Single();
        var encryption = secret.GetSecretKeys().Cast<PgpSecretKey>()
            .Single(k => SignatureVerifier.Fingerprint(k.PublicKey) == gpgKey.EncryptionSubkey);
        var signed = ClearSigner.Sign(Manifest, encryption); // BouncyCastle signs with an RSA key whatever its flags
        Assert.True(RogueKeys.SignatureIsGood(signed, encryption.PublicKey));

        var e = Refused(Ring(gpgKey.PublicKey), signed);
        Assert.Equal(SignatureFailure.NotASigningKey, e.Failure);
        Assert.Equal(gpgKey.EncryptionSubkey, e.SignerFingerprint);
        Assert.EndsWith($"which is not a signing subkey of trusted key {gpgKey.Primary}: its key flags (0x0C) do not "
            + "include signing (0x02)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASubkeyWhoseBindingSignatureIsCorruptedCannotSignAndIsNotStored()
    {
        var ring = Ring(gpgKey.PublicKey);
        var subkey = ring.GetPublicKeys().Cast<PgpPublicKey>()
            .Single(k => SignatureVerifier.Fingerprint(k) == gpgKey.SigningSubkey);
        var corrupted = RogueKeys.Corrupt(ring, subkey.GetKeySignatures().Single());

        var e = Refused(corrupted, gpgKey.SignedBySubkey);
        Assert.Equal(SignatureFailure.NotASigningKey, e.Failure);
        Assert.EndsWith("no valid binding signature from that key", e.Message, StringComparison.Ordinal);

        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        keyring.Import(RogueKeys.Armored(corrupted), "key.asc", "key.asc");
        Assert.DoesNotContain(gpgKey.SigningSubkey,
            Assert.Single(keyring.TrustedRings()).GetPublicKeys().Cast<PgpPublicKey>()
                .Select(SignatureVerifier.Fingerprint));
    }

    [Fact]
    public void ASubkeyRevokedByGpgCannotSignButABrokenRevocationIsIgnored()
    {
        Assert.Equal(gpgKey.RevokedSubkey,
            new SignatureVerifier([Ring(gpgKey.PublicKey)])
                .Verify(gpgKey.SignedByRevokedSubkey, "m").SigningKeyFingerprint);

        var revoked = Ring(gpgKey.RevokedPublicKey);
        var e = Refused(revoked, gpgKey.SignedByRevokedSubkey);
        Assert.Equal(SignatureFailure.KeyNotValid, e.Failure);
        Assert.Contains($"a subkey of {gpgKey.Primary} that has been revoked", e.Message, StringComparison.Ordinal);

        var subkey = revoked.GetPublicKeys().Cast<PgpPublicKey>()
            .Single(k => SignatureVerifier.Fingerprint(k) == gpgKey.RevokedSubkey);
        var revocation = subkey.GetKeySignatures().Single(s => s.SignatureType == PgpSignature.SubkeyRevocation);
        var broken = RogueKeys.Corrupt(revoked, revocation);
        Assert.Equal(gpgKey.RevokedSubkey,
            new SignatureVerifier([broken]).Verify(gpgKey.SignedByRevokedSubkey, "m").SigningKeyFingerprint);

        // A trusted key takes a revocation from a later copy (e.g. a mirror's), and drops a broken one.
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        keyring.Import(gpgKey.PublicKey, "key.asc", "key.asc");
        keyring.Import(RogueKeys.Armored(broken), "mirror", "mirror");
        Assert.Equal(gpgKey.Primary,
            new SignatureVerifier(keyring.TrustedRings()).Verify(gpgKey.SignedByRevokedSubkey, "m").SignerFingerprint);
        keyring.Import(gpgKey.RevokedPublicKey, "mirror", "mirror");
        Assert.Equal(SignatureFailure.KeyNotValid, Assert.Throws<SignatureException>(() =>
            new SignatureVerifier(keyring.TrustedRings()).Verify(gpgKey.SignedByRevokedSubkey, "m")).Failure);
    }

    [Fact]
    public void ASubkeyBoundWithoutItsCrossCertificationCannotSign()
    {
        var owner = SignatureTests.FixtureSecretKey();
        var other = RogueKeys.Create("Other");
        var signed = ClearSigner.Sign(Manifest, other.GetSecretKey());

        var e = Refused(RogueKeys.WithBoundSubkey(owner, other, PgpKeyFlags.CanSign, crossCertified: false), signed);
        Assert.Equal(SignatureFailure.NotASigningKey, e.Failure);
        Assert.EndsWith("its binding has no valid cross-certification (primary key binding signature) made by the "
            + "subkey", e.Message, StringComparison.Ordinal);

        var verified = new SignatureVerifier([RogueKeys.WithBoundSubkey(owner, other, PgpKeyFlags.CanSign,
            crossCertified: true)]).Verify(signed, "m");
        Assert.Equal(SignatureTests.FixtureFingerprint, verified.SignerFingerprint);
        Assert.Equal(SignatureVerifier.Fingerprint(other.GetPublicKey()), verified.SigningKeyFingerprint);
    }
}
