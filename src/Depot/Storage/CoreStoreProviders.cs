namespace Depot.Storage;

/// <summary>Directories: a path, or a <c>file://</c> URL.</summary>
public sealed class LocalDirectoryStoreProvider : IStoreProvider
{
    /// <summary><c>file</c>; a mirror given without any scheme is a directory path too.</summary>
    public IReadOnlyList<string> Schemes { get; } = ["file"];

    /// <exception cref="DepotException">
    /// A <c>file://</c> URL that is not valid or names a host (<c>file://relative/path</c>), or a path whose first
    /// existing part is a file rather than a directory.
    /// </exception>
    public IStoreReader Open(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var path = location.Url.StartsWith("file://", StringComparison.OrdinalIgnoreCase)
            ? FileUrlPath(location.Url) : location.Url;
        CheckNotAFile(Path.GetFullPath(path), location.Url);
        return new LocalDirectoryStore(path);
    }

    // file:///abs/path or file://localhost/abs/path. Anything between file:// and the next '/' is a host, which a
    // directory mirror cannot have: file://relative/path is a relative path mistyped, not a share on host 'relative'.
    private static string FileUrlPath(string url)
    {
        var rest = url["file://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? rest : rest[..slash];
        if (host.Length > 0 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            throw new DepotException(ErrorKind.Usage,
                $"'{url}' is not a directory URL: '{host}' stands where a file:// URL has its host; write "
                + $"file:///ABSOLUTE/PATH (three slashes), or give the directory path itself ({rest})");
        }

        // The path as written, percent-escapes undone (.NET's Uri would make file://localhost/p a UNC path).
        return slash >= 0 ? Uri.UnescapeDataString(rest[slash..])
            : throw new DepotException(ErrorKind.Usage,
                $"'{url}' is not a valid file:// URL (file:///ABSOLUTE/PATH)");
    }

    // A mirror is a directory, made when first written: the path, or its deepest part that exists, must be one.
    private static void CheckNotAFile(string path, string given)
    {
        for (var part = path; !string.IsNullOrEmpty(part); part = Path.GetDirectoryName(part))
        {
            if (Directory.Exists(part))
            {
                return;
            }

            if (File.Exists(part) || Path.Exists(part))
            {
                throw new DepotException(ErrorKind.Usage, part == path
                    ? $"{given}: is a file, not a directory: a mirror is a directory (or a URL)"
                    : $"{given}: {part} is a file, not a directory: a mirror is a directory (or a URL)");
            }
        }
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
    /// <exception cref="DepotException">The URL names no host, or the token's variable is not set.</exception>
    public IStoreReader Open(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!Uri.TryCreate(location.Url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw new DepotException(ErrorKind.Usage,
                $"'{location.Url}' is not a valid mirror URL: it names no host (http(s)://HOST[:PORT]/PATH)");
        }

        var token = location.TokenVariable is { } variable
            ? new BearerToken(variable, location.Variable(variable)!) : null;
        return new HttpStore(location.Url, location.HttpCacheFolder, token: token);
    }
}
