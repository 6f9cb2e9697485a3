namespace Depot.Storage;

/// <summary>Turns what a user typed as a mirror (a path or URL) into a store.</summary>
public static class StoreFactory
{
    /// <exception cref="DepotException">The scheme is not supported or the path is malformed.</exception>
    public static IObjectStore Open(string mirror)
    {
        if (string.IsNullOrWhiteSpace(mirror))
        {
            throw new DepotException("no mirror given: pass a directory path or a file:// URL");
        }

        if (mirror.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(mirror, UriKind.Absolute, out var uri) || !uri.IsFile)
            {
                throw new DepotException($"'{mirror}' is not a valid file:// URL");
            }

            return new LocalDirectoryStore(uri.LocalPath);
        }

        var colon = mirror.IndexOf("://", StringComparison.Ordinal);
        if (colon > 0)
        {
            throw new DepotException($"mirror '{mirror}': the '{mirror[..colon]}' scheme is not supported yet (use a directory path or file:// URL)");
        }

        return new LocalDirectoryStore(mirror);
    }
}
