namespace Depot.Storage;

/// <summary>Directories: a path, or a <c>file://</c> URL.</summary>
public sealed class LocalDirectoryStoreProvider : IStoreProvider
{
    /// <summary><c>file</c>; a mirror given without any scheme is a directory path too.</summary>
    public IReadOnlyList<string> Schemes { get; } = ["file"];

    /// <exception cref="DepotException">A <c>file://</c> URL that is not valid.</exception>
    public IStoreReader Open(StoreLocation location)
    {
        if (!location.Url.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            return new LocalDirectoryStore(location.Url);
        }

        return Uri.TryCreate(location.Url, UriKind.Absolute, out var uri) && uri.IsFile
            ? new LocalDirectoryStore(uri.LocalPath)
            : throw new DepotException(ErrorKind.Usage, $"'{location.Url}' is not a valid file:// URL");
    }
}

/// <summary>Read-only mirrors over plain <c>http://</c> and <c>https://</c> (<see cref="HttpStore"/>).</summary>
public sealed class HttpStoreProvider : IStoreProvider
{
    /// <summary><c>http</c> and <c>https</c>.</summary>
    public IReadOnlyList<string> Schemes { get; } = ["http", "https"];

    /// <summary>
    /// An <see cref="HttpStore"/> keeping index copies in <see cref="StoreLocation.HttpCacheFolder"/>.
    /// </summary>
    public IStoreReader Open(StoreLocation location) => new HttpStore(location.Url, location.HttpCacheFolder);
}
