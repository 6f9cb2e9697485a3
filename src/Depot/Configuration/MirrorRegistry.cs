using Depot.Storage;

namespace Depot.Configuration;

/// <summary>
/// Every mirror Depot knows, by precedence: its own <c>config.yaml</c>, then Spack's user and site <c>mirrors.yaml</c>
/// (a name defined earlier hides a later one). Opens a mirror given by name or URL with the credentials configured for
/// it; secrets come only from environment variables named in the configuration, or the clouds' own credential chains.
/// </summary>
public sealed class MirrorRegistry
{
    private MirrorRegistry(IReadOnlyList<(string Name, MirrorConfig Mirror)> mirrors) => Mirrors = mirrors;

    public IReadOnlyList<(string Name, MirrorConfig Mirror)> Mirrors { get; }

    public static MirrorRegistry Load(DepotHome home, bool includeSpack = true)
    {
        var all = new List<(string, MirrorConfig)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, mirror) in DepotConfig.Load(home.ConfigFile).Mirrors)
        {
            mirror.Source = "depot (" + home.ConfigFile + ")";
            all.Add((name, mirror));
            seen.Add(name);
        }

        if (includeSpack)
        {
            foreach (var (scope, path) in SpackMirrors.Scopes())
            {
                foreach (var (name, mirror) in SpackMirrors.Read(path).Where(m => seen.Add(m.Key)))
                {
                    mirror.Source = $"{scope} ({path})";
                    all.Add((name, mirror));
                }
            }
        }

        return new MirrorRegistry(all);
    }

    /// <summary>The mirror with this name, or whose URL is this one.</summary>
    public (string Name, MirrorConfig Mirror)? Find(string nameOrUrl)
    {
        foreach (var entry in Mirrors.Where(m => m.Name == nameOrUrl))
        {
            return entry;
        }

        foreach (var entry in Mirrors.Where(m => m.Mirror.Url.Length > 0 && DepotConfig.SameLocation(m.Mirror.Url, nameOrUrl)))
        {
            return entry;
        }

        return null;
    }

    /// <summary>Opens a mirror for reading or pushing: a configured name or URL with its settings, else a bare path or URL.</summary>
    /// <exception cref="DepotException">A variable the configuration names is not set, or the URL is unusable.</exception>
    public IObjectStore Open(string nameOrUrl, bool push, string? httpCache)
    {
        if (Find(nameOrUrl) is not { } found)
        {
            return StoreFactory.Open(nameOrUrl, null, httpCache);
        }

        var connection = found.Mirror.For(push);
        var where = $"mirror '{found.Name}' ({found.Mirror.Source})";
        string? Variable(string? name) => name is null ? null
            : Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value
            : throw new DepotException(ErrorKind.Usage, $"{where}: environment variable {name} is not set");

        if (connection.Url.StartsWith("gs://", StringComparison.OrdinalIgnoreCase))
        {
            var parts = connection.Url[5..].Split('/', 2);
            return new GcsStore(parts[0], parts.Length > 1 ? parts[1] : "", connection.GcsKeyFile);
        }

        if (connection.Url.StartsWith("azure://", StringComparison.OrdinalIgnoreCase) && connection.AzureConnectionStringVariable is { } azureVariable)
        {
            var parts = connection.Url[8..].Split('/', 3);
            return new AzureBlobStore(parts[0], parts.Length > 1 ? parts[1] : "", parts.Length > 2 ? parts[2] : "", Variable(azureVariable));
        }

        if (Storage.Oci.OciReference.IsOciUrl(connection.Url))
        {
            // Spack's --oci-username / --oci-password-variable land in access_pair, as for S3.
            var user = connection.AccessPair?.Id ?? Variable(connection.AccessPair?.IdVariable);
            var credential = user is null ? null
                : new Storage.Oci.OciCredential(user, Variable(connection.AccessPair?.SecretVariable) ?? "", $"{where} access_pair");
            return new Storage.Oci.OciStore(Storage.Oci.OciReference.Parse(connection.Url), new Storage.Oci.OciClientOptions(credential, connection.CaCert));
        }

        // Credential variables are read only for the store that uses them.
        var s3 = connection.Url.StartsWith("s3://", StringComparison.OrdinalIgnoreCase)
            ? new S3StoreOptions(connection.EndpointUrl, connection.AccessPair?.Id ?? Variable(connection.AccessPair?.IdVariable),
                Variable(connection.AccessPair?.SecretVariable), Variable(connection.AccessTokenVariable), connection.Profile)
            : null;
        return StoreFactory.Open(connection.Url, s3, httpCache);
    }
}
