using Depot.Storage.Faults;
using Depot.Storage.Oci;

namespace Depot.Storage.Providers;

/// <summary>
/// The store providers a host ships, by URL scheme: the engine's own (directories and <c>file://</c>,
/// <c>http(s)://</c>, <c>oci://</c>) and the cloud providers the host adds (<c>s3://</c>, <c>gs://</c>,
/// <c>azure://</c>, each in its own project). A host builds this once and gives it to the engine where mirrors are
/// opened (<c>MirrorRegistry.Load</c>); an unknown scheme, or one whose provider the host did not add, is refused in
/// one line.
/// </summary>
public sealed class StoreProviders
{
    // Schemes served by provider projects a host may leave out: the refusal then names the project to add.
    private static readonly Dictionary<string, string> OptionalProjects = new(StringComparer.Ordinal)
    {
        ["s3"] = "Depot.Storage.S3",
        ["gs"] = "Depot.Storage.Gcs",
        ["azure"] = "Depot.Storage.Azure",
    };

    private readonly List<IStoreProvider> providers;
    private readonly Dictionary<string, IStoreProvider> bySchemes = new(StringComparer.Ordinal);

    private StoreProviders(IEnumerable<IStoreProvider> providers, EnvironmentVariables environment)
    {
        Environment = environment;
        this.providers = [.. providers];
        foreach (var provider in this.providers)
        {
            foreach (var scheme in provider.Schemes)
            {
                if (!bySchemes.TryAdd(scheme, provider))
                {
                    throw new ArgumentException(
                        $"{provider.GetType().Name} and {bySchemes[scheme].GetType().Name} both open {scheme}://");
                }
            }
        }
    }

    /// <summary>The engine's own providers: directories and <c>file://</c>, <c>http(s)://</c>, <c>oci://</c>.</summary>
    public static StoreProviders Builtin { get; } =
        new([new LocalDirectoryStoreProvider(), new HttpStoreProvider(), new OciStoreProvider()],
            EnvironmentVariables.Empty);

    /// <summary>
    /// The environment stores are opened in: the variables a mirror's settings name, and each service's own
    /// (<c>AZURE_STORAGE_CONNECTION_STRING</c>, <c>GOOGLE_APPLICATION_CREDENTIALS</c>, <c>DOCKER_CONFIG</c>…), and
    /// Spack's configuration scopes. Empty unless the host gives its own (<see cref="WithEnvironment"/>).
    /// </summary>
    public EnvironmentVariables Environment { get; }

    /// <summary>Every scheme a provider here owns, sorted, for messages.</summary>
    public IEnumerable<string> Schemes => bySchemes.Keys.Order(StringComparer.Ordinal);

    /// <summary>The providers, in the order they were added.</summary>
    public IReadOnlyList<IStoreProvider> All => providers;

    /// <summary>These providers and <paramref name="more"/> (a host adding the cloud providers it ships).</summary>
    /// <exception cref="ArgumentException">Two providers own the same scheme.</exception>
    public StoreProviders With(params IEnumerable<IStoreProvider> more) => new(providers.Concat(more), Environment);

    /// <summary>
    /// These providers, opening stores in <paramref name="environment"/> (a host's, built at its edge).
    /// </summary>
    public StoreProviders WithEnvironment(EnvironmentVariables environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new(providers, environment);
    }

    /// <summary>
    /// The provider that opens <paramref name="url"/>: one that claims it (Azure's https host), else the owner of its
    /// scheme; a URL without <c>://</c> is a directory path.
    /// </summary>
    /// <exception cref="DepotException">
    /// No URL, an unknown scheme, or one whose provider this host does not ship.
    /// </exception>
    public IStoreProvider For(string url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new DepotException(ErrorKind.Usage,
                $"no mirror given: pass a directory path or a URL ({Supported()})");
        }

        var end = url.IndexOf("://", StringComparison.Ordinal);
        var scheme = end > 0 ? url[..end].ToLowerInvariant() : "file";
        if (providers.FirstOrDefault(p => p.Claims(url)) is { } claimant)
        {
            return claimant;
        }

        if (bySchemes.TryGetValue(scheme, out var owner))
        {
            return owner;
        }

        throw OptionalProjects.TryGetValue(scheme, out var project)
            ? new DepotException(ErrorKind.Unsupported,
                $"mirror '{url}': {scheme}:// needs the {project} store provider, which this program "
                + $"was built without ({Supported()})")
            : new DepotException(ErrorKind.Unsupported,
                $"mirror '{url}': the '{scheme}' scheme is not supported ({Supported()})");
    }

    /// <summary>Opens the store at <paramref name="location"/> with the provider of its URL.</summary>
    /// <exception cref="DepotException">See <see cref="For"/> and <see cref="IStoreProvider.Open"/>.</exception>
    /// <remarks>
    /// For tests and benches: when the environment sets <c>DEPOT_FAULTS=SEED:RATE[:KINDS]</c>
    /// (<see cref="FaultPlan.Parse"/>), a writable store comes wrapped in a <see cref="FaultInjectingStore"/> inside a
    /// <see cref="RetryingStore"/>, so every command runs against a store that throttles, times out and breaks.
    /// </remarks>
    public IStoreReader Open(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var store = For(location.Url).Open(location with { Environment = Environment });
        return Environment[FaultPlan.Variable] is { } faults && store is IObjectStore writable
            ? new RetryingStore(new FaultInjectingStore(writable, FaultPlan.Parse(faults)))
            : store;
    }

    /// <summary>Opens a bare path or URL (no configured settings; the clouds' own credential chains apply).</summary>
    /// <exception cref="DepotException">See <see cref="For"/> and <see cref="IStoreProvider.Open"/>.</exception>
    public IStoreReader Open(string url) => Open(new StoreLocation(url));

    private string Supported() =>
        "this program opens a directory, " + string.Join(", ", Schemes.Select(s => s + "://"));
}
