namespace Depot.Storage;

/// <summary>
/// A mirror to open: its URL (or directory path) and the credential settings configured for it (Spack's
/// <c>mirrors.yaml</c> fields, Depot's own) — names of environment variables and files, never secrets. Each
/// <see cref="IStoreProvider"/> reads only the settings of its own service, when it opens the store, so a variable is
/// required only by the store that uses it.
/// </summary>
public sealed record StoreLocation(string Url)
{
    /// <summary>
    /// Where the settings were configured, for messages (<c>mirror 'x' (depot (path))</c>); null for a bare URL.
    /// </summary>
    public string? ConfiguredBy { get; init; }

    /// <summary>Spack's <c>access_pair</c> id, given as is.</summary>
    public string? AccessKeyId { get; init; }

    /// <summary>The variable holding the <c>access_pair</c> id (when <see cref="AccessKeyId"/> is not given).</summary>
    public string? AccessKeyIdVariable { get; init; }

    /// <summary>The variable holding the <c>access_pair</c> secret (S3 secret key, registry password).</summary>
    public string? SecretVariable { get; init; }

    /// <summary>The variable holding an S3 session token (Spack's <c>access_token_variable</c>).</summary>
    public string? SessionTokenVariable { get; init; }

    /// <summary>A profile of the AWS shared configuration files.</summary>
    public string? Profile { get; init; }

    /// <summary>An S3-compatible endpoint (Spack's <c>endpoint_url</c>).</summary>
    public string? EndpointUrl { get; init; }

    /// <summary>A Google service-account key file for <c>gs://</c>.</summary>
    public string? GcsKeyFile { get; init; }

    /// <summary>
    /// The variable holding an Azure connection string (else <c>AZURE_STORAGE_CONNECTION_STRING</c>).
    /// </summary>
    public string? AzureConnectionStringVariable { get; init; }

    /// <summary>A CA certificate (PEM) to trust for this mirror's https, besides the system's.</summary>
    public string? CaCert { get; init; }

    /// <summary>
    /// The variable holding the bearer token an http(s) mirror (a Depot server) is sent; null: no token.
    /// </summary>
    public string? TokenVariable { get; init; }

    /// <summary>Where an HTTP mirror keeps its index copies between runs; null: none.</summary>
    public string? HttpCacheFolder { get; init; }

    /// <summary>
    /// The environment the variables named here are read from (the host's, given through its
    /// <c>StoreProviders</c>); none set by default.
    /// </summary>
    public EnvironmentVariables Environment { get; init; } = EnvironmentVariables.Empty;

    /// <summary>The mirror for messages: where it was configured, else its URL.</summary>
    public string Where => ConfiguredBy ?? $"mirror '{Url}'";

    /// <summary>
    /// The value of the variable <paramref name="name"/> in <see cref="Environment"/>; null when no variable is named.
    /// </summary>
    /// <exception cref="DepotException">
    /// The variable is named but not set (the message names it and the mirror).
    /// </exception>
    public string? Variable(string? name) => name is null ? null
        : Environment[name] is { } value ? value
        : throw new DepotException(ErrorKind.Usage, $"{Where}: environment variable {name} is not set");

    /// <summary>
    /// The URL split after <c>scheme://</c> into at most <paramref name="count"/> '/'-separated parts.
    /// </summary>
    public string[] PathParts(int count)
    {
        var start = Url.IndexOf("://", StringComparison.Ordinal);
        return Url[(start < 0 ? 0 : start + 3)..].Split('/', count);
    }

    /// <summary>Part <paramref name="index"/> of <see cref="PathParts"/>, which must not be empty.</summary>
    /// <exception cref="DepotException">The part is missing (the message names <paramref name="what"/>).</exception>
    public static string Required(string[] parts, int index, string what, string url) =>
        parts.Length > index && parts[index].Length > 0 ? parts[index]
            : throw new DepotException(ErrorKind.Usage, $"mirror '{url}' names no {what}");
}
