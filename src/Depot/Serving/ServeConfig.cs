using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Depot.Serving;

/// <summary>
/// What one <c>depot serve</c> process serves, from <c>serve.yaml</c> or from mirrors named on the command line
/// (<see cref="ZeroConfig"/>): the addresses it listens on, TLS, where tokens are kept, limits, and the named caches.
/// </summary>
/// <param name="Listen">Addresses as <c>host:port</c> (IPv6 in brackets).</param>
/// <param name="Tls">Certificate and key files for HTTPS, or null for plain HTTP (behind a proxy, or a first try).
/// </param>
/// <param name="TokensFile">The hashed-token file (absolute), shared by every replica.</param>
/// <param name="Limits">Request body and upload limits.</param>
/// <param name="Caches">The served caches by name, in configuration order.</param>
/// <param name="Source">The configuration file, or null for a zero-config start.</param>
public sealed record ServeConfig(IReadOnlyList<string> Listen, ServeTls? Tls, string TokensFile, ServeLimits Limits,
    IReadOnlyList<ServedCacheConfig> Caches, string? Source)
{
    /// <summary>The address a zero-config start listens on.</summary>
    public const string DefaultListen = "127.0.0.1:8080";

    /// <summary>Path segments the server keeps for itself; no cache may be named so.</summary>
    public static readonly IReadOnlySet<string> ReservedNames =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "healthz", "readyz", "metrics", "_depot", "api" };

    /// <summary>
    /// Proxies whose <c>X-Forwarded-For/-Proto/-Host</c> are believed (addresses or CIDR networks). Loopback by
    /// default: a reverse proxy on the same machine is the usual set-up, and only a local process can claim to be one.
    /// Empty: the headers are ignored and the client is the connection's peer.
    /// </summary>
    public IReadOnlyList<string> TrustedProxies { get; init; } = DefaultTrustedProxies;

    /// <summary>Proxies trusted when the configuration names none: loopback, IPv4 and IPv6.</summary>
    public static readonly IReadOnlyList<string> DefaultTrustedProxies = ["127.0.0.0/8", "::1"];

    /// <summary>The cache named <paramref name="name"/> (case-sensitive, as in URLs), or null.</summary>
    public ServedCacheConfig? Find(string name) => Caches.FirstOrDefault(c => c.Name == name);

    /// <summary>
    /// Serves each mirror (a path, URL or configured name) as a public, read-only cache named after its last path
    /// segment; a second mirror with the same last segment gets <c>-2</c>, <c>-3</c>, …
    /// </summary>
    /// <exception cref="DepotException">No mirror, or a mirror whose name cannot be a URL segment.</exception>
    public static ServeConfig ZeroConfig(IReadOnlyList<string> mirrors, string? listen, string tokensFile)
    {
        if (mirrors.Count == 0)
        {
            throw new DepotException(ErrorKind.Usage, "nothing to serve: name a mirror (path, URL or configured name)"
                + " or a configuration file");
        }

        var caches = new List<ServedCacheConfig>();
        foreach (var mirror in mirrors)
        {
            var name = CacheNames.FromMirror(mirror);
            var unique = name;
            for (var n = 2; caches.Any(c => c.Name == unique); n++)
            {
                unique = $"{name}-{n}";
            }

            caches.Add(new ServedCacheConfig(unique, mirror) { Public = true, ReadOnly = true });
        }

        return new ServeConfig([listen ?? DefaultListen], null, tokensFile, new ServeLimits(), caches, null);
    }

    /// <summary>Reads <c>serve.yaml</c>. Relative file names in it are relative to its folder.</summary>
    /// <exception cref="DepotException">The file is missing or not what it must be (file, line, column, field).
    /// </exception>
    public static ServeConfig Load(string path, string? listenOverride = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new DepotException(ErrorKind.NotFound, $"{full}: no such configuration file");
        }

        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            var text = File.ReadAllText(full);
            Formats.YamlDepth.Check(text, full, Formats.YamlDepth.ConfigLimit, "the file");
            stream.Load(new StringReader(text));

            root = stream.Documents.Count == 0 ? new YamlMappingNode()
                : stream.Documents[0].RootNode as YamlMappingNode
                    ?? throw ServeYaml.Error(full, stream.Documents[0].RootNode, null, "expected a mapping");
        }
        catch (YamlException e)
        {
            throw new DepotException(ErrorKind.InvalidContent,
                $"{full}: line {e.Start.Line}, column {e.Start.Column}: invalid YAML: {e.Message}");
        }

        return new ServeYaml(full).Read(root, listenOverride);
    }
}

/// <summary>HTTPS from certificate files (PEM certificate chain and its private key).</summary>
public sealed record ServeTls(string CertificateFile, string KeyFile);

/// <summary>What one request may cost the server.</summary>
public sealed record ServeLimits
{
    /// <summary>Largest request body (one blob upload), in bytes.</summary>
    public long MaxBodyBytes { get; init; } = 16L << 30;

    /// <summary>Uploads handled at once; more wait their turn.</summary>
    public int MaxConcurrentUploads { get; init; } = 16;
}

/// <summary>One served cache: its name in URLs, the mirror behind it and its rules.</summary>
/// <param name="Name">The URL segment: <c>https://host/NAME/</c>.</param>
/// <param name="Mirror">The store behind it: a path, URL or a mirror configured in the server's Depot home.</param>
public sealed record ServedCacheConfig(string Name, string Mirror)
{
    /// <summary>Readable without a token.</summary>
    public bool Public { get; init; }

    /// <summary>Refuses every write (405), whatever the token.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Accepts pushed entries that carry no signature (and serves them).</summary>
    public bool AllowUnsigned { get; init; }

    /// <summary>Fingerprints of the keys whose signatures pushed and upstream entries may carry (empty: the server's
    /// keyring).</summary>
    public IReadOnlyList<string> TrustedFingerprints { get; init; } = [];

    /// <summary>The server's own key that signs what is pushed unsigned (pushers never hold it), or null.</summary>
    public string? SignWith { get; init; }

    /// <summary>Mirrors a miss is fetched from, in order (pull-through); empty for none.</summary>
    public IReadOnlyList<UpstreamConfig> Upstreams { get; init; } = [];
}

/// <summary>
/// One upstream of a pull-through cache and the trust its entries are checked under before they are stored.
/// </summary>
/// <param name="Mirror">A path, URL or mirror configured in the server's Depot home.</param>
public sealed record UpstreamConfig(string Mirror)
{
    /// <summary>Fingerprints of the keys the upstream's entries may be signed with (empty: the server's keyring and
    /// the mirror's own configuration).</summary>
    public IReadOnlyList<string> TrustedFingerprints { get; init; } = [];

    /// <summary>Takes the upstream's unsigned entries (checksums and DAG hash still checked).</summary>
    public bool AllowUnsigned { get; init; }
}
