using Depot.Storage.Providers;

namespace Depot.Storage.Azure;

/// <summary>
/// Azure Blob Storage: <c>azure://account/container/prefix</c>, and <c>https://account.blob.core.windows.net/...</c>
/// (claimed from plain HTTP). Credentials: the connection string in the variable the mirror names (else
/// <c>AZURE_STORAGE_CONNECTION_STRING</c>), a SAS token (<c>AZURE_STORAGE_SAS_TOKEN</c>), else
/// DefaultAzureCredential; the variables are read from the host's environment
/// (<see cref="StoreLocation.Environment"/>).
/// </summary>
public sealed class AzureStoreProvider : IStoreProvider
{
    private const string BlobHost = ".blob.core.windows.net";

    /// <summary><c>azure</c>.</summary>
    public IReadOnlyList<string> Schemes { get; } = ["azure"];

    /// <summary>True for <c>https://account.blob.core.windows.net/...</c>.</summary>
    public bool Claims(string url) =>
        url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        && url[8..].Split('/', 2)[0].EndsWith(BlobHost, StringComparison.OrdinalIgnoreCase);

    /// <exception cref="DepotException">The URL names no account or container, or the variable is not set.</exception>
    public IStoreReader Open(StoreLocation location)
    {
        var parts = location.PathParts(3);
        var account = Claims(location.Url) ? parts[0].Split('.')[0]
            : StoreLocation.Required(parts, 0, "account", location.Url);
        var environment = location.Environment;
        return new AzureBlobStore(account, StoreLocation.Required(parts, 1, "container", location.Url),
            parts.Length > 2 ? parts[2] : "",
            location.Variable(location.AzureConnectionStringVariable) ?? environment["AZURE_STORAGE_CONNECTION_STRING"],
            environment["AZURE_STORAGE_SAS_TOKEN"]);
    }
}

/// <summary>Registers <see cref="AzureStoreProvider"/> with a host's providers.</summary>
public static class AzureStoreProviderExtensions
{
    /// <summary><paramref name="providers"/> and <c>azure://</c> (and Azure's https hosts).</summary>
    public static StoreProviders WithAzure(this StoreProviders providers) => providers.With(new AzureStoreProvider());
}
