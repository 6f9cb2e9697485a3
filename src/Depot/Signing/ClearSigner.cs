using System.Text;
using Depot.Formats;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>
/// Clearsigns text exactly as <c>gpg --clearsign</c> does for Spack: one <c>Hash: SHA512</c> armor header (Spack's
/// reader tolerates exactly one), dash-escaped text, a canonical-text (0x01) signature with the issuer fingerprint
/// and creation time hashed and the issuer key id unhashed, armored without a Version header.
/// </summary>
public static class ClearSigner
{
    public static string Sign(string text, PgpSecretKey key, DateTime? signingTime = null)
    {
        return Sign(text, new DocumentSigner(key), signingTime);
    }

    /// <summary>Signs with a prepared signer (extracting a private key is costly; sign many texts with
    /// one).</summary>
    public static string Sign(string text, DocumentSigner signer, DateTime? signingTime = null)
    {
        var signature = signer.Sign(CanonicalText(text), signingTime ?? DateTime.UtcNow);
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
