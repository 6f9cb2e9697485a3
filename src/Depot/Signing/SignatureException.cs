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

    /// <summary>The signing key had expired or was revoked when the signature was made.</summary>
    KeyNotValid,
}

/// <summary>A signature check failed. The message is one line naming the document and the signer.</summary>
public sealed class SignatureException : DepotException
{
    public SignatureException(string location, SignatureFailure failure, string message, string? signerKeyId = null,
        string? signerFingerprint = null)
        : base($"{location}: {message}")
    {
        Location = location;
        Failure = failure;
        SignerKeyId = signerKeyId;
        SignerFingerprint = signerFingerprint;
    }

    public string Location { get; }

    public SignatureFailure Failure { get; }

    /// <summary>16-hex key id of the signer, when the signature names it.</summary>
    public string? SignerKeyId { get; }

    /// <summary>40-hex fingerprint of the signer, when the signature carries it (GnuPG 2.2 and Depot do).</summary>
    public string? SignerFingerprint { get; }
}
