namespace Depot.Signing;

/// <summary>Why a signature check failed, with what a user needs to act: the signer's key id and fingerprint.</summary>
public enum SignatureFailure
{
    /// <summary>The document has no signature, and one is required.</summary>
    Unsigned,

    /// <summary>The signing key is not among the trusted keys.</summary>
    UntrustedKey,

    /// <summary>The signature does not match the text (altered content or a damaged signature).</summary>
    BadSignature,

    /// <summary>The signature block cannot be parsed.</summary>
    Malformed,

    /// <summary>
    /// The signing key is not valid now: revoked by a verified revocation, expired by the clock, created after the
    /// signature or in the future, or its trusted primary has no valid self-signature.
    /// </summary>
    KeyNotValid,

    /// <summary>
    /// The signing key sits in a trusted key ring but may not sign for it: a subkey its primary never bound with a
    /// valid signature, bound without the signing flag or without a valid cross-certification, or a primary whose
    /// key flags exclude signing.
    /// </summary>
    NotASigningKey,
}

/// <summary>A signature check failed. The message is one line naming the document and the signer.</summary>
public sealed class SignatureException : DepotException
{
    public SignatureException(string location, SignatureFailure failure, string message, string? signerKeyId = null,
        string? signerFingerprint = null, string? primaryFingerprint = null)
        : base(ErrorKind.Trust, $"{location}: {message}")
    {
        Location = location;
        Failure = failure;
        SignerKeyId = signerKeyId;
        SignerFingerprint = signerFingerprint;
        PrimaryFingerprint = primaryFingerprint;
    }

    public string Location { get; }

    public SignatureFailure Failure { get; }

    /// <summary>16-hex key id of the signer, when the signature names it.</summary>
    public string? SignerKeyId { get; }

    /// <summary>
    /// 40-hex fingerprint of the key that made the signature (a subkey, when a subkey signed): from the trusted key
    /// ring when the key is there, else from the signature when it carries one (GnuPG 2.2 and Depot do).
    /// </summary>
    public string? SignerFingerprint { get; }

    /// <summary>The trusted primary key the signing key belongs to (or claims to), when it is in a trusted key
    /// ring.</summary>
    public string? PrimaryFingerprint { get; }
}
