using Depot.Formats;
using Depot.Signing;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Tests.Signing;

/// <summary>Key rings as an attacker who controls a mirror can publish them (issue 14), and a clock tests can
/// set.</summary>
internal static class RogueKeys
{
    /// <summary>A fresh key pair of the attacker's.</summary>
    public static PgpSecretKeyRing Create(string name = "Rogue") =>
        KeyGenerator.Create(name, name.ToLowerInvariant() + "@example.invalid", null, null, KeyAlgorithm.Ed25519);

    /// <summary>
    /// <paramref name="ring"/> with <paramref name="rogue"/>'s key packet appended as a subkey and no binding
    /// signature: the key a hostile mirror publishes under the real fingerprint. The subkey has the rogue key's
    /// fingerprint, so the rogue key's signatures name it as their issuer.
    /// </summary>
    public static PgpPublicKeyRing WithUnboundSubkey(PgpPublicKeyRing ring, PgpPublicKey rogue)
    {
        var packet = new PublicSubkeyPacket(PublicKeyPacket.Version4, rogue.Algorithm, rogue.CreationTime,
            rogue.PublicKeyPacket.Key);
        return new PgpPublicKeyRing([.. ring.GetEncoded(), .. packet.GetEncoded()]);
    }

    /// <summary>
    /// <paramref name="ring"/> with <paramref name="subkey"/> bound by a subkey binding signature its primary made with
    /// <paramref name="flags"/>, with or without the subkey's cross-certification (embedded 0x19 signature).
    /// </summary>
    public static PgpPublicKeyRing WithBoundSubkey(PgpSecretKeyRing primaryRing, PgpSecretKeyRing subkeyRing, int flags,
        bool crossCertified)
    {
        var primary = primaryRing.GetSecretKey();
        var primaryPublic = primaryRing.GetPublicKey();
        var rogue = subkeyRing.GetPublicKey();
        var subkey = new PgpPublicKey(new PublicSubkeyPacket(PublicKeyPacket.Version4, rogue.Algorithm,
            rogue.CreationTime, rogue.PublicKeyPacket.Key));
        var hashed = new PgpSignatureSubpacketGenerator();
        hashed.SetSignatureCreationTime(false, DateTime.UtcNow.AddMinutes(-1));
        hashed.SetKeyFlags(false, flags);
        hashed.SetIssuerFingerprint(false, primaryPublic);
        if (crossCertified)
        {
            var back = new PgpSignatureGenerator(rogue.Algorithm, HashAlgorithmTag.Sha512);
            back.InitSign(PgpSignature.PrimaryKeyBinding, subkeyRing.GetSecretKey().ExtractPrivateKey([]));
            var backHashed = new PgpSignatureSubpacketGenerator();
            backHashed.SetSignatureCreationTime(false, DateTime.UtcNow.AddMinutes(-1));
            back.SetHashedSubpackets(backHashed.Generate());
            hashed.AddEmbeddedSignature(false, back.GenerateCertification(primaryPublic, subkey));
        }

        var generator = new PgpSignatureGenerator(primaryPublic.Algorithm, HashAlgorithmTag.Sha512);
        generator.InitSign(PgpSignature.SubkeyBinding, primary.ExtractPrivateKey([]));
        generator.SetHashedSubpackets(hashed.Generate());
        var binding = generator.GenerateCertification(primaryPublic, subkey);
        var publicRing = new PgpPublicKeyRing(primaryPublic.GetEncoded());
        return new PgpPublicKeyRing([.. publicRing.GetEncoded(), .. subkey.PublicKeyPacket.GetEncoded(),
            .. binding.GetEncoded()]);
    }

    /// <summary>True when the clearsigned text's signature is cryptographically good for <paramref name="key"/>,
    /// whatever the key may do.</summary>
    public static bool SignatureIsGood(string clearSigned, PgpPublicKey key)
    {
        var message = ClearSignedMessage.Parse(clearSigned, "signed");
        var signature = ((PgpSignatureList)new PgpObjectFactory(OpenPgpArmor.Decode(message.SignatureArmor, "signed"))
            .NextPgpObject())[0];
        signature.InitVerify(key);
        signature.Update(ClearSigner.CanonicalText(message.Body));
        return signature.Verify();
    }

    /// <summary>Armored as a mirror publishes it.</summary>
    public static string Armored(PgpPublicKeyRing ring) =>
        OpenPgpArmor.Armor(OpenPgpArmor.PublicKeyBlock, ring.GetEncoded());

    /// <summary>The bytes of <paramref name="packet"/> inside <paramref name="ring"/> with its last byte (inside the
    /// signature value) flipped.</summary>
    public static PgpPublicKeyRing Corrupt(PgpPublicKeyRing ring, PgpSignature packet)
    {
        var bytes = ring.GetEncoded();
        var encoded = packet.GetEncoded();
        var at = bytes.AsSpan().IndexOf(encoded);
        Assert.True(at >= 0, "signature packet not found in the key ring");
        bytes[at + encoded.Length - 1] ^= 0x01;
        return new PgpPublicKeyRing(bytes);
    }
}

/// <summary>A clock stopped at one instant, for judging expiry.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
