using System.Text;
using Depot.Formats;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>
/// Clearsigns text exactly as <c>gpg --clearsign</c> does for Spack: one <c>Hash: SHA512</c> armor header (Spack's
/// reader tolerates exactly one), dash-escaped text, a canonical-text (0x01) signature with the issuer fingerprint
/// and creation time hashed and the issuer key id unhashed, armored without a Version header.
/// </summary>
public static class ClearSigner
{
    public static string Sign(string text, PgpSecretKey key, DateTime? signingTime = null) =>
        Sign(text, key, key.ExtractPrivateKey(Array.Empty<char>()), signingTime);

    /// <summary>Signs with an already extracted private key (extracting it is costly; sign many texts with
    /// one).</summary>
    public static string Sign(string text, PgpSecretKey key, PgpPrivateKey privateKey, DateTime? signingTime = null)
    {
        var generator = new PgpSignatureGenerator(key.PublicKey.Algorithm, HashAlgorithmTag.Sha512);
        generator.InitSign(PgpSignature.CanonicalTextDocument, privateKey);
        var hashed = new PgpSignatureSubpacketGenerator();
        hashed.SetIssuerFingerprint(false, key.PublicKey);
        hashed.SetSignatureCreationTime(false, signingTime ?? DateTime.UtcNow);
        generator.SetHashedSubpackets(hashed.Generate());
        var unhashed = new PgpSignatureSubpacketGenerator();
        unhashed.SetIssuerKeyID(false, key.KeyId);
        generator.SetUnhashedSubpackets(unhashed.Generate());
        generator.Update(CanonicalText(text));
        var signature = generator.Generate().GetEncoded();

        var sb = new StringBuilder();
        sb.Append(ClearSignedMessage.BeginMessage).Append("\nHash: SHA512\n\n");
        foreach (var line in text.Split('\n'))
        {
            sb.Append(line.StartsWith('-') ? "- " + line : line).Append('\n');
        }

        sb.Append(OpenPgpArmor.Armor(OpenPgpArmor.SignatureBlock, signature));
        return sb.ToString();
    }

    /// <summary>
    /// The bytes a text signature covers (RFC 4880 §7.1): trailing spaces and tabs removed from each line, lines
    /// joined with CR LF, no line ending after the last line.
    /// </summary>
    public static byte[] CanonicalText(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        return Encoding.UTF8.GetBytes(string.Join("\r\n", lines.Select(l => l.TrimEnd(' ', '\t'))));
    }
}
