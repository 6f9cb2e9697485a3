using Depot.Storage.Providers;

namespace Depot.Storage.Gcs;

/// <summary>
/// <c>gs://bucket/prefix</c>. Credentials: the mirror's service-account key file (<c>gcs_key_file</c>), else Google's
/// Application Default Credentials, from the host's environment. The mirror's <c>endpoint_url</c> sends requests to
/// another server speaking the JSON API (a private endpoint, a test server) with the same credentials.
/// </summary>
public sealed class GcsStoreProvider : IStoreProvider
{
    /// <summary><c>gs</c>.</summary>
    public IReadOnlyList<string> Schemes { get; } = ["gs"];

    /// <exception cref="DepotException">The URL names no bucket.</exception>
    public IStoreReader Open(StoreLocation location)
    {
        var parts = location.PathParts(2);
        return new GcsStore(StoreLocation.Required(parts, 0, "bucket", location.Url), parts.Length > 1 ? parts[1] : "",
            location.GcsKeyFile, location.EndpointUrl, environment: location.Environment);
    }
}

/// <summary>Registers <see cref="GcsStoreProvider"/> with a host's providers.</summary>
public static class GcsStoreProviderExtensions
{
    /// <summary><paramref name="providers"/> and <c>gs://</c>.</summary>
    public static StoreProviders WithGcs(this StoreProviders providers) => providers.With(new GcsStoreProvider());
}
