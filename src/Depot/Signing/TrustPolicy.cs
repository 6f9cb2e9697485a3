using Depot.Formats;

namespace Depot.Signing;

/// <summary>
/// How entries of one mirror are checked: which keys may sign them, and whether unsigned entries are accepted
/// (mirror configured <c>signed: false</c>, or <c>--no-verify</c>). Failures name the mirror, the entry, the signer
/// and the command that would fix it.
/// </summary>
public sealed class TrustPolicy
{
    public TrustPolicy(string mirror, SignatureVerifier? verifier, bool requireSignature)
    {
        Mirror = mirror;
        Verifier = verifier;
        RequireSignature = requireSignature;
    }

    /// <summary>The mirror as the user named it, for messages and fix commands.</summary>
    public string Mirror { get; }

    /// <summary>Checks signatures; null when signatures are not checked at all (<c>--no-verify</c>).</summary>
    public SignatureVerifier? Verifier { get; }

    public bool RequireSignature { get; }

    /// <summary>No checks at all: signed documents are unwrapped, unsigned ones accepted.</summary>
    public static TrustPolicy None(string mirror) => new(mirror, null, requireSignature: false);

    /// <summary>
    /// Returns the text to parse: the verified body of a clearsigned document, or the document itself when it is
    /// unsigned and that is allowed.
    /// </summary>
    /// <exception cref="SignatureException">A signature is required but missing, or it does not verify.</exception>
    public VerifiedText? Check(string text, string location, out string body)
    {
        if (ClearSignedMessage.LooksClearSigned(System.Text.Encoding.UTF8.GetBytes(text.Length > 64 ? text[..64]
            : text)))
        {
            if (Verifier is null)
            {
                body = ClearSignedMessage.Parse(text, location).Body;
                return null;
            }

            var verified = Verifier.Verify(text, location);
            body = verified.Text;
            return verified;
        }

        if (RequireSignature)
        {
            throw new SignatureException(location, SignatureFailure.Unsigned,
                "not signed, and this mirror requires signatures");
        }

        body = text;
        return null;
    }

    /// <summary>One line for a failed entry: mirror, entry, what failed, and how to fix it.</summary>
    public string Explain(string entryName, DepotException error)
    {
        var what = $"{Mirror}: {entryName}: ";
        if (error is not SignatureException s)
        {
            return what + error.Message;
        }

        var fix = s.Failure switch
        {
            SignatureFailure.UntrustedKey => s.SignerFingerprint is { } fpr
                ? $"if you trust this key, run: depot keys trust {Mirror} --fingerprint {fpr}"
                : $"trust the signer's key: depot keys trust {Mirror} --all (or depot keys import KEYFILE)",
            SignatureFailure.Unsigned =>
                "if this mirror is meant to be unsigned, pass --no-verify or set 'signed: false' for it in config.yaml",
            SignatureFailure.KeyNotValid => "ask the mirror's owner to re-sign with a valid key",
            SignatureFailure.NotASigningKey =>
                "only a trusted key, or a signing subkey it bound itself, may sign: the entry may have been tampered "
                + "with",
            _ => "the entry is damaged or was tampered with: re-push it from a trusted source",
        };
        return $"{what}{s.Message}; {fix}";
    }
}
