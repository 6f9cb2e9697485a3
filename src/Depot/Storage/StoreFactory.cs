namespace Depot.Storage;

/// <summary>Turns what a user typed as a mirror (a path or URL) into a store.</summary>
public static class StoreFactory
{
    /// <exception cref="DepotException">The scheme is not supported or the path is malformed.</exception>
    public static IObjectStore Open(string mirror, S3StoreOptions? s3 = null, string? httpCache = null, Oci.OciClientOptions? oci = null)
    {
        if (string.IsNullOrWhiteSpace(mirror))
        {
            throw new DepotException(ErrorKind.Usage, "no mirror given: pass a directory path or a URL (file://, s3://, azure://)");
        }

        if (mirror.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(mirror, UriKind.Absolute, out var uri) || !uri.IsFile)
            {
                throw new DepotException(ErrorKind.Usage, $"'{mirror}' is not a valid file:// URL");
            }

            return new LocalDirectoryStore(uri.LocalPath);
        }

        var colon = mirror.IndexOf("://", StringComparison.Ordinal);
        if (colon > 0)
        {
            var scheme = mirror[..colon].ToLowerInvariant();
            var rest = mirror[(colon + 3)..];
            var parts = rest.Split('/', 2);
            switch (scheme)
            {
                case "s3":
                    return new S3Store(Required(parts[0], "bucket", mirror), parts.Length > 1 ? parts[1] : "", s3);
                case "azure":
                    var azure = rest.Split('/', 3);
                    return new AzureBlobStore(Required(azure[0], "account", mirror), Required(azure.Length > 1 ? azure[1] : "", "container", mirror),
                        azure.Length > 2 ? azure[2] : "");
                case "https" when parts[0].EndsWith(".blob.core.windows.net", StringComparison.OrdinalIgnoreCase):
                    var blob = rest.Split('/', 3);
                    return new AzureBlobStore(blob[0].Split('.')[0], Required(blob.Length > 1 ? blob[1] : "", "container", mirror), blob.Length > 2 ? blob[2] : "");
                case "oci" or "oci+http" or "oci+https":
                    return new Oci.OciStore(Oci.OciReference.Parse(mirror), oci);
                case "gs":
                    return new GcsStore(Required(parts[0], "bucket", mirror), parts.Length > 1 ? parts[1] : "");
                case "http" or "https":
                    return new HttpStore(mirror, httpCache);
                default:
                    throw new DepotException(ErrorKind.Unsupported, $"mirror '{mirror}': the '{scheme}' scheme is not supported yet (directory, file://, s3://, gs://, azure://, http(s)://, oci://, oci+http://)");
            }
        }

        return new LocalDirectoryStore(mirror);
    }

    private static string Required(string value, string what, string mirror) =>
        value.Length > 0 ? value : throw new DepotException(ErrorKind.Usage, $"mirror '{mirror}' names no {what}");
}
