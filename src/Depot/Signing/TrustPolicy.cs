using Depot.Formats;

namespace Depot.Signing;

/// <summary>
/// How entries of one mirror are checked: which keys may sign them, and whether unsigned entries are accepted
/// (mirror configured <c>signed: false</c>, or signatures not checked on request). Failures name the mirror, the
/// entry and the signer; <see cref="HintFor"/> says what would fix them.
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

    /// <summary>Checks signatures; null when signatures are not checked at all (the user asked so).</summary>
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

    /// <summary>
    /// One line for a failed entry: mirror, entry, what failed, and (when no host command is involved) how to fix
    /// it. A fix a host spells as a command comes from <see cref="HintFor"/>.
    /// </summary>
    public string Explain(string entryName, DepotException error)
    {
        var what = $"{Mirror}: {entryName}: ";
        if (error is not SignatureException s)
        {
            return what + error.Message;
        }

        var fix = s.Failure switch
        {
            SignatureFailure.UntrustedKey or SignatureFailure.Unsigned => null,
            SignatureFailure.KeyNotValid => "ask the mirror's owner to re-sign with a valid key",
            SignatureFailure.NotASigningKey =>
                "only a trusted key, or a signing subkey it bound itself, may sign: the entry may have been tampered "
                + "with",
            _ => "the entry is damaged or was tampered with: re-push it from a trusted source",
        };
        return fix is null ? what + s.Message : $"{what}{s.Message}; {fix}";
    }

    /// <summary>
    /// What would let this mirror's entries pass, for an error <see cref="Check"/> raised: trust the signer's key
    /// (by its fingerprint when known), or accept the mirror unsigned; otherwise the error's own hint.
    /// </summary>
    public ErrorHint? HintFor(DepotException error) => error switch
    {
        SignatureException { Failure: SignatureFailure.UntrustedKey, SignerFingerprint: { } fpr } =>
            ErrorHint.TrustMirrorKey(Mirror, fpr),
        SignatureException { Failure: SignatureFailure.UntrustedKey } => ErrorHint.TrustMirrorKeys(Mirror),
        SignatureException { Failure: SignatureFailure.Unsigned } => ErrorHint.AllowUnsigned(Mirror),
        _ => error.Hint,
    };
}
