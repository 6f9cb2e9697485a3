using YamlDotNet.Serialization;

namespace Depot.Configuration;

/// <summary>
/// Spack 1.x's <c>access_pair</c>: the key id (or the variable holding it) and the variable holding the secret.
/// Secrets themselves are never stored by Depot.
/// </summary>
public sealed class MirrorAccessPair
{
    public string? Id { get; set; }

    public string? IdVariable { get; set; }

    public string? SecretVariable { get; set; }
}

/// <summary>How to reach a mirror: the URL and the credential settings of Spack's <c>mirrors.yaml</c>.</summary>
public class MirrorConnection
{
    public string Url { get; set; } = "";

    public MirrorAccessPair? AccessPair { get; set; }

    /// <summary>Variable holding an S3 session token (Spack's <c>access_token_variable</c>).</summary>
    public string? AccessTokenVariable { get; set; }

    public string? Profile { get; set; }

    public string? EndpointUrl { get; set; }

    /// <summary>Depot's own: a Google service-account key file for <c>gs://</c>.</summary>
    public string? GcsKeyFile { get; set; }

    /// <summary>Depot's own: the variable holding an Azure connection string (default
    /// AZURE_STORAGE_CONNECTION_STRING).</summary>
    public string? AzureConnectionStringVariable { get; set; }

    /// <summary>Depot's own: a CA certificate (PEM) to trust for this mirror's https, besides the system's.</summary>
    public string? CaCert { get; set; }

    /// <summary>Depot's own: the variable holding the bearer token of an http(s) mirror served by
    /// <c>depot serve</c> (sent to that server only, reads and pushes).</summary>
    public string? TokenVariable { get; set; }

    /// <summary>Names of the environment variables this connection reads, for messages (never their values).</summary>
    public IEnumerable<string> Variables() =>
        new[] { AccessPair?.IdVariable, AccessPair?.SecretVariable, AccessTokenVariable,
            AzureConnectionStringVariable, TokenVariable }.OfType<string>();
}

/// <summary>One configured mirror, with the field names of Spack's <c>mirrors.yaml</c> where they exist.</summary>
public sealed class MirrorConfig : MirrorConnection
{
    /// <summary>Whether entries must be signed; null means the default (signed).</summary>
    public bool? Signed { get; set; }

    /// <summary>Key fingerprints this mirror's entries may be signed with. Empty: any trusted key.</summary>
    public List<string> TrustedFingerprints { get; set; } = [];

    /// <summary>
    /// Depot's own: the compression ratio a package of this mirror may unpack at, past 256 MiB, before it is refused
    /// as a decompression bomb (default 200, <c>ExtractionLimits.DefaultMaxCompressionRatio</c>), for the rare honest
    /// package that is mostly zeros. At least 1.
    /// </summary>
    public double? MaxCompressionRatio { get; set; }

    /// <summary>Spack's separate settings for reading and for pushing; each falls back to the mirror's own.</summary>
    public MirrorConnection? Fetch { get; set; }

    public MirrorConnection? Push { get; set; }

    /// <summary>Where this mirror was configured (Depot's config.yaml, or a Spack scope's mirrors.yaml).</summary>
    [YamlIgnore]
    public string Source { get; set; } = "";

    /// <summary>The connection for reading or for pushing, with unset fields taken from the mirror itself.</summary>
    public MirrorConnection For(bool push)
    {
        var specific = push ? Push : Fetch;
        return new MirrorConnection
        {
            Url = specific?.Url is { Length: > 0 } u ? u : Url,
            AccessPair = specific?.AccessPair ?? AccessPair,
            AccessTokenVariable = specific?.AccessTokenVariable ?? AccessTokenVariable,
            Profile = specific?.Profile ?? Profile,
            EndpointUrl = specific?.EndpointUrl ?? EndpointUrl,
            GcsKeyFile = specific?.GcsKeyFile ?? GcsKeyFile,
            AzureConnectionStringVariable = specific?.AzureConnectionStringVariable ?? AzureConnectionStringVariable,
            CaCert = specific?.CaCert ?? CaCert,
            TokenVariable = specific?.TokenVariable ?? TokenVariable,
        };
    }
}
