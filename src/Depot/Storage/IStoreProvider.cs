namespace Depot.Storage;

/// <summary>
/// Opens the stores of some URL schemes: the one place that parses those URLs and reads their credential settings.
/// The engine has providers for directories (and <c>file://</c>), <c>http(s)://</c> and <c>oci://</c>; each cloud
/// service has its own project (<c>Depot.Storage.S3</c>, <c>.Gcs</c>, <c>.Azure</c>), and a host registers the ones it
/// ships in its <c>StoreProviders</c>.
/// </summary>
public interface IStoreProvider
{
    /// <summary>
    /// The URL schemes this provider owns, lower case, without <c>://</c> (<c>s3</c>). One owner per scheme.
    /// </summary>
    IReadOnlyList<string> Schemes { get; }

    /// <summary>
    /// True when this provider takes <paramref name="url"/> although its scheme is another provider's (Azure takes
    /// <c>https://account.blob.core.windows.net/...</c> from plain HTTP). The default claims nothing.
    /// </summary>
    bool Claims(string url) => false;

    /// <summary>
    /// Opens the store <see cref="StoreLocation.Url"/> names, with the settings of <paramref name="location"/> that
    /// concern this service. No request is sent: a wrong credential shows at first use.
    /// </summary>
    /// <exception cref="DepotException">The URL is malformed, or a variable the settings name is not set.</exception>
    IStoreReader Open(StoreLocation location);
}
