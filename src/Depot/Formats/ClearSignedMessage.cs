using System.Text;

namespace Depot.Formats;

/// <summary>
/// The parts of an OpenPGP clearsigned document (RFC 4880 §7): the armor headers, the signed text with dash-escaping
/// undone, and the armored signature. This type only splits the text; checking the signature is the keyring's job.
/// </summary>
public sealed class ClearSignedMessage
{
    public const string BeginMessage = "-----BEGIN PGP SIGNED MESSAGE-----";
    public const string BeginSignature = "-----BEGIN PGP SIGNATURE-----";

    private ClearSignedMessage(IReadOnlyList<string> headers, string body, string signatureArmor)
    {
        Headers = headers;
        Body = body;
        SignatureArmor = signatureArmor;
    }

    /// <summary>Armor header lines such as <c>Hash: SHA512</c>.</summary>
    public IReadOnlyList<string> Headers { get; }

    /// <summary>The signed text, dash-unescaped, without the line ending that precedes the signature.</summary>
    public string Body { get; }

    /// <summary>The ASCII-armored signature block, from its BEGIN line to its END line.</summary>
    public string SignatureArmor { get; }

    /// <summary>True when the bytes start like a clearsigned document (leading whitespace allowed).</summary>
    public static bool LooksClearSigned(ReadOnlySpan<byte> content)
    {
        var trimmed = content.TrimStart("\r\n\t "u8);
        return trimmed.StartsWith("-----BEGIN PGP SIGNED MESSAGE-----"u8);
    }

    /// <exception cref="InvalidContentException">The text is not a well-formed clearsigned document.</exception>
    public static ClearSignedMessage Parse(string text, string location)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var i = 0;
        while (i < lines.Length && lines[i].Trim().Length == 0)
        {
            i++;
        }

        if (i >= lines.Length || lines[i].TrimEnd() != BeginMessage)
        {
            throw new InvalidContentException(location, "not a clearsigned document (no '" + BeginMessage + "' line)");
        }

        i++;
        var headers = new List<string>();
        while (i < lines.Length && lines[i].Length > 0)
        {
            headers.Add(lines[i]);
            i++;
        }

        if (i >= lines.Length)
        {
            throw new InvalidContentException(location,
                "clearsigned document has no blank line after its armor headers");
        }

        i++;
        var body = new StringBuilder();
        var first = true;
        for (; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimEnd() == BeginSignature)
            {
                var signature = string.Join('\n', lines[i..]).TrimEnd() + "\n";
                if (!signature.Contains("-----END PGP SIGNATURE-----", StringComparison.Ordinal))
                {
                    throw new InvalidContentException(location,
                        "clearsigned document's signature block has no END line");
                }

                return new ClearSignedMessage(headers, body.ToString(), signature);
            }

            if (!first)
            {
                body.Append('\n');
            }

            first = false;
            body.Append(line.StartsWith("- ", StringComparison.Ordinal) ? line[2..] : line);
        }

        throw new InvalidContentException(location, "clearsigned document has no '" + BeginSignature + "' line");
    }
}
