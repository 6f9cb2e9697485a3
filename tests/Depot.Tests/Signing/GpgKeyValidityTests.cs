using System.Globalization;
using Depot.Signing;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Tests.Signing;

/// <summary>Revocation and expiry of keys made by the real gpg: revocations count when they verify, expiry goes by the
/// clock.</summary>
public class GpgKeyValidityTests
{
    private const string Text = "{\n\"version\":3\n}";

    private static PgpPublicKeyRing Ring(string armored) => OpenPgpArmor.ReadKeyRings(armored, "key").Public.Single();

    private static string ClearSign(GpgHome gpg, string user, params string[] options)
    {
        File.WriteAllText(gpg.FilePath("m.json"), Text);
        var output = gpg.FilePath(Guid.NewGuid().ToString("N") + ".sig");
        gpg.RunOk([.. options, "--local-user", user, "--clearsign", "-o", output, gpg.FilePath("m.json")]);
        return File.ReadAllText(output);
    }

    [Fact]
    public void APrimaryKeyRevokedByGpgIsRefusedButABrokenRevocationIsIgnored()
    {
        using var gpg = new GpgHome();
        gpg.RunOk("--quick-gen-key", "Revoked Key <revoked@example.invalid>", "ed25519", "sign", "never");
        var fingerprint = gpg.Fingerprints("revoked@example.invalid")[0];
        var signed = ClearSign(gpg, fingerprint);
        Assert.Equal(fingerprint,
            new SignatureVerifier([Ring(gpg.RunOk("--armor", "--export", fingerprint))])
                .Verify(signed, "m").SignerFingerprint);

        // The revocation certificate gpg made with the key, imported as a user would.
        var certificate = File.ReadAllText(Path.Combine(gpg.Path, "openpgp-revocs.d", fingerprint + ".rev"))
            .Replace(":-----BEGIN", "-----BEGIN", StringComparison.Ordinal);
        File.WriteAllText(gpg.FilePath("revocation.asc"), certificate);
        gpg.RunOk("--import", gpg.FilePath("revocation.asc"));
        var revoked = Ring(gpg.RunOk("--armor", "--export", fingerprint));

        var e = Assert.Throws<SignatureException>(() => new SignatureVerifier([revoked]).Verify(signed, "m"));
        Assert.Equal(SignatureFailure.KeyNotValid, e.Failure);
        Assert.Equal($"m: signed by key {fingerprint[^16..]}, which has been revoked", e.Message);

        var revocation = revoked.GetPublicKey().GetKeySignatures()
            .Single(s => s.SignatureType == PgpSignature.KeyRevocation);
        Assert.Equal(fingerprint,
            new SignatureVerifier([RogueKeys.Corrupt(revoked, revocation)]).Verify(signed, "m").SignerFingerprint);
    }

    [Fact]
    public void KeysAndSubkeysPastTheirExpiryAreRefusedThoughTheSignatureClaimsAnEarlierTime()
    {
        using var gpg = new GpgHome();
        var created = DateTime.UtcNow.AddDays(-30).Date;
        var atCreation = "--faked-system-time=" + created.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture)
            + "!";
        var whileValid = "--faked-system-time="
            + created.AddHours(6).ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture) + "!";
        gpg.RunOk(atCreation, "--quick-gen-key", "Short Key <short@example.invalid>", "ed25519", "sign", "1d");
        gpg.RunOk(atCreation, "--quick-gen-key", "Short Subkey <subkey@example.invalid>", "ed25519", "cert", "never");
        var owner = gpg.Fingerprints("subkey@example.invalid")[0];
        gpg.RunOk(atCreation, "--quick-add-key", owner, "ed25519", "sign", "1d");
        var subkey = gpg.Fingerprints(owner)[1];

        var expiry = created.AddDays(1).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        foreach (var (user, signer) in new[] { ("short@example.invalid", gpg.Fingerprints("short@example.invalid")[0]),
            (owner, subkey) })
        {
            var signed = ClearSign(gpg, user, whileValid); // the signature claims a time when the key was valid
            var ring = Ring(gpg.RunOk("--armor", "--export", user));

            var e = Assert.Throws<SignatureException>(() => new SignatureVerifier([ring]).Verify(signed, "m"));
            Assert.Equal(SignatureFailure.KeyNotValid, e.Failure);
            Assert.Equal(signer, e.SignerFingerprint);
            Assert.EndsWith("which expired on " + expiry, e.Message, StringComparison.Ordinal);

            var clock = new FixedClock(new DateTimeOffset(created.AddHours(12), TimeSpan.Zero));
            Assert.Equal(signer, new SignatureVerifier([ring], clock).Verify(signed, "m").SigningKeyFingerprint);
        }
    }
}
