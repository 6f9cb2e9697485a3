using Depot.Storage;
using Depot.Storage.Providers;

namespace Depot.Configuration;

/// <summary>
/// Every mirror Depot knows, by precedence: its own <c>config.yaml</c>, then Spack's user and site <c>mirrors.yaml</c>
/// (a name defined earlier hides a later one). Opens a mirror given by name or URL with the credentials configured for
/// it, through the store providers the host ships; secrets come only from environment variables named in the
/// configuration, or the clouds' own credential chains.
/// </summary>
public sealed class MirrorRegistry
{
    private readonly IReadOnlyDictionary<string, DepotException> broken;

    private MirrorRegistry(IReadOnlyList<(string Name, MirrorConfig Mirror)> mirrors, StoreProviders providers,
        IReadOnlyDictionary<string, DepotException> broken)
    {
        Mirrors = mirrors;
        Providers = providers;
        this.broken = broken;
    }

    public IReadOnlyList<(string Name, MirrorConfig Mirror)> Mirrors { get; }

    /// <summary>
    /// Depot's mirror entries that could not be read, by name, each error naming the file, line and field: left out
    /// of <see cref="Mirrors"/> so that commands not using them still run; naming one raises its error.
    /// </summary>
    public IReadOnlyDictionary<string, DepotException> Broken => broken;

    /// <summary>What <see cref="Open"/> opens mirrors with: the host's store providers.</summary>
    public StoreProviders Providers { get; }

    /// <summary>
    /// The mirrors, to find and list them; <see cref="Open"/> then knows only the engine's own stores (directories,
    /// http(s)://, oci://). A host that opens mirrors passes its providers to the other overload.
    /// </summary>
    public static MirrorRegistry Load(DepotHome home, bool includeSpack = true) =>
        Load(home, StoreProviders.Builtin, includeSpack);

    /// <summary>
    /// The mirrors, opened with <paramref name="providers"/> (the host's choice of store providers); Spack's scopes
    /// are those the providers' environment names (<see cref="StoreProviders.Environment"/>).
    /// </summary>
    public static MirrorRegistry Load(DepotHome home, StoreProviders providers, bool includeSpack = true)
    {
        var all = new List<(string, MirrorConfig)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var config = DepotConfig.LoadTolerant(home.ConfigFile);
        foreach (var (name, mirror) in config.Mirrors)
        {
            mirror.Source = "depot (" + home.ConfigFile + ")";
            all.Add((name, mirror));
            seen.Add(name);
        }

        seen.UnionWith(config.Broken.Keys); // a broken entry still hides Spack's mirror of that name

        if (includeSpack)
        {
            foreach (var (scope, path) in SpackMirrors.Scopes(providers.Environment))
            {
                foreach (var (name, mirror) in SpackMirrors.Read(path).Where(m => seen.Add(m.Key)))
                {
                    mirror.Source = $"{scope} ({path})";
                    all.Add((name, mirror));
                }
            }
        }

        return new MirrorRegistry(all, providers, config.Broken);
    }

    /// <summary>The mirror with this name, or whose URL is this one.</summary>
    /// <exception cref="DepotException">The name is that of a mirror entry that could not be read.</exception>
    public (string Name, MirrorConfig Mirror)? Find(string nameOrUrl)
    {
        if (broken.TryGetValue(nameOrUrl, out var error))
        {
            throw error;
        }

        foreach (var entry in Mirrors.Where(m => m.Name == nameOrUrl))
        {
            return entry;
        }

        foreach (var entry in Mirrors.Where(m => m.Mirror.Url.Length > 0
            && DepotConfig.SameLocation(m.Mirror.Url, nameOrUrl)))
        {
            return entry;
        }

        return null;
    }

    /// <summary>
    /// Opens a mirror for reading or pushing: a configured name or URL with its settings (the push or fetch
    /// connection), else a bare path or URL. The store's provider parses the URL and reads the variables it needs. A
    /// read-only store (plain HTTP) comes back as such: writers call <see cref="StoreCapabilities.RequireWritable"/>.
    /// </summary>
    /// <exception cref="DepotException">
    /// A variable the configuration names is not set, the URL is unusable, or its scheme has no provider in this host.
    /// </exception>
    public IStoreReader Open(string nameOrUrl, bool push, string? httpCache)
    {
        if (Find(nameOrUrl) is not { } found)
        {
            return Providers.Open(new StoreLocation(nameOrUrl) { HttpCacheFolder = httpCache });
        }

        var connection = found.Mirror.For(push);
        return Providers.Open(new StoreLocation(connection.Url)
        {
            ConfiguredBy = $"mirror '{found.Name}' ({found.Mirror.Source})",
            AccessKeyId = connection.AccessPair?.Id,
            AccessKeyIdVariable = connection.AccessPair?.IdVariable,
            SecretVariable = connection.AccessPair?.SecretVariable,
            SessionTokenVariable = connection.AccessTokenVariable,
            Profile = connection.Profile,
            EndpointUrl = connection.EndpointUrl,
            GcsKeyFile = connection.GcsKeyFile,
            AzureConnectionStringVariable = connection.AzureConnectionStringVariable,
            CaCert = connection.CaCert,
            TokenVariable = connection.TokenVariable,
            HttpCacheFolder = httpCache,
        });
    }
}
