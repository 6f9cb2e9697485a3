using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Depot.Serving;

/// <summary>
/// Reads <c>serve.yaml</c> field by field so that every error names the file, line, column and field, and an unknown
/// field (a typo) is refused instead of silently ignored.
/// </summary>
internal sealed class ServeYaml(string path)
{
    private static readonly string[] TopFields =
        ["listen", "tls", "tokens_file", "limits", "trusted_proxies", "caches"];
    private static readonly string[] CacheFields =
        ["mirror", "public", "read_only", "allow_unsigned", "trusted_fingerprints", "sign_with", "upstreams"];
    private static readonly string[] UpstreamFields = ["mirror", "trusted_fingerprints", "allow_unsigned"];

    private string Folder => Path.GetDirectoryName(path)!;

    public static DepotException Error(string file, YamlNode node, string? field, string problem) =>
        new(ErrorKind.InvalidContent, $"{file}: line {node.Start.Line}, column {node.Start.Column}: "
            + (field is null ? "" : field + ": ") + problem);

    public ServeConfig Read(YamlMappingNode root, string? listenOverride)
    {
        CheckFields(root, TopFields, null);
        var listen = listenOverride is not null ? [listenOverride]
            : Field(root, "listen") switch
            {
                null => [ServeConfig.DefaultListen],
                YamlScalarNode one => [Text(one, "listen")],
                YamlSequenceNode many => many.Select(n => Text(n, "listen")).ToList(),
                var other => throw Error(path, other, "listen", "expected host:port or a list of them"),
            };
        ServeTls? tls = null;
        if (Field(root, "tls") is { } tlsNode)
        {
            var map = Mapping(tlsNode, "tls");
            CheckFields(map, ["certificate", "key"], "tls");
            tls = new ServeTls(FileName(Text(Required(map, "certificate", "tls"), "tls.certificate")),
                FileName(Text(Required(map, "key", "tls"), "tls.key")));
        }

        var tokens = Field(root, "tokens_file") is { } t ? FileName(Text(t, "tokens_file"))
            : Path.Combine(Folder, "tokens.json");
        var limits = new ServeLimits();
        if (Field(root, "limits") is { } limitsNode)
        {
            var map = Mapping(limitsNode, "limits");
            CheckFields(map, ["max_body_bytes", "max_concurrent_uploads"], "limits");
            if (Field(map, "max_body_bytes") is { } body)
            {
                limits = limits with { MaxBodyBytes = Number(body, "limits.max_body_bytes") };
            }

            if (Field(map, "max_concurrent_uploads") is { } uploads)
            {
                limits = limits with { MaxConcurrentUploads = (int)Number(uploads, "limits.max_concurrent_uploads") };
            }
        }

        var caches = new List<ServedCacheConfig>();
        if (Field(root, "caches") is { } cachesNode)
        {
            foreach (var (key, value) in Mapping(cachesNode, "caches").Children)
            {
                caches.Add(Cache(Text(key, "caches"), key, value));
            }
        }

        if (caches.Count == 0)
        {
            throw Error(path, root, "caches", "no cache is configured (caches: NAME: {mirror: PATH-OR-URL})");
        }

        return new ServeConfig(listen, tls, tokens, limits, caches, path)
        {
            TrustedProxies = Field(root, "trusted_proxies") switch
            {
                null => ServeConfig.DefaultTrustedProxies,
                YamlSequenceNode list => list.Select(Proxy).ToList(),
                var other => throw Error(path, other, "trusted_proxies",
                    "expected a list of addresses or networks (127.0.0.1, 10.0.0.0/8)"),
            },
        };
    }

    private string Proxy(YamlNode node)
    {
        var text = Text(node, "trusted_proxies");
        return System.Net.IPNetwork.TryParse(text, out _) || System.Net.IPAddress.TryParse(text, out _) ? text
            : throw Error(path, node, "trusted_proxies", $"'{text}' is not an IP address or network"
                + " (127.0.0.1, ::1, 10.0.0.0/8)");
    }

    private ServedCacheConfig Cache(string name, YamlNode key, YamlNode value)
    {
        var field = "caches." + name;
        if (!CacheNames.IsValid(name))
        {
            throw Error(path, key, field, "a cache name is one URL segment of letters, digits, '.', '_' or '-'"
                + $" (at most 64), and not one of {string.Join(", ", ServeConfig.ReservedNames)}");
        }

        var map = Mapping(value, field);
        CheckFields(map, CacheFields, field);
        var upstreams = new List<UpstreamConfig>();
        if (Field(map, "upstreams") is { } ups)
        {
            var list = ups as YamlSequenceNode ?? throw Error(path, ups, field + ".upstreams", "expected a list");
            foreach (var up in list)
            {
                upstreams.Add(Upstream(up, field + ".upstreams"));
            }
        }

        return new ServedCacheConfig(name, Text(Required(map, "mirror", field), field + ".mirror"))
        {
            Public = Flag(map, "public", field),
            ReadOnly = Flag(map, "read_only", field),
            AllowUnsigned = Flag(map, "allow_unsigned", field),
            TrustedFingerprints = Fingerprints(map, field),
            SignWith = Field(map, "sign_with") is { } sign ? Text(sign, field + ".sign_with") : null,
            Upstreams = upstreams,
        };
    }

    private UpstreamConfig Upstream(YamlNode node, string field)
    {
        if (node is YamlScalarNode scalar)
        {
            return new UpstreamConfig(Text(scalar, field));
        }

        var map = Mapping(node, field);
        CheckFields(map, UpstreamFields, field);
        return new UpstreamConfig(Text(Required(map, "mirror", field), field + ".mirror"))
        {
            TrustedFingerprints = Fingerprints(map, field),
            AllowUnsigned = Flag(map, "allow_unsigned", field),
        };
    }

    private List<string> Fingerprints(YamlMappingNode map, string field)
    {
        if (Field(map, "trusted_fingerprints") is not { } node)
        {
            return [];
        }

        var list = node as YamlSequenceNode
            ?? throw Error(path, node, field + ".trusted_fingerprints", "expected a list of fingerprints");
        return list.Select(n => Text(n, field + ".trusted_fingerprints").Replace(" ", "", StringComparison.Ordinal)
            .ToUpperInvariant()).ToList();
    }

    private void CheckFields(YamlMappingNode map, string[] known, string? parent)
    {
        foreach (var key in map.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            if (!known.Contains(name))
            {
                throw Error(path, key, parent is null ? name : parent + "." + name,
                    $"unknown field (known: {string.Join(", ", known)})");
            }
        }
    }

    private static YamlNode? Field(YamlMappingNode map, string name) =>
        map.Children.TryGetValue(new YamlScalarNode(name), out var value)
        && !(value is YamlScalarNode { Value: null or "" or "~" or "null" }) ? value : null;

    private YamlNode Required(YamlMappingNode map, string name, string parent) =>
        Field(map, name) ?? throw Error(path, map, parent + "." + name, "required");

    private YamlMappingNode Mapping(YamlNode node, string field) =>
        node as YamlMappingNode ?? throw Error(path, node, field, "expected a mapping");

    private string Text(YamlNode node, string field) =>
        node is YamlScalarNode { Value: { Length: > 0 } value } ? value
            : throw Error(path, node, field, "expected a non-empty string");

    private bool Flag(YamlMappingNode map, string name, string parent)
    {
        if (Field(map, name) is not { } node)
        {
            return false;
        }

        return Text(node, parent + "." + name) switch
        {
            "true" or "True" or "yes" => true,
            "false" or "False" or "no" => false,
            _ => throw Error(path, node, parent + "." + name, "expected true or false"),
        };
    }

    private long Number(YamlNode node, string field) =>
        long.TryParse(Text(node, field), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
            : throw Error(path, node, field, "expected a positive whole number");

    private string FileName(string value) => Path.GetFullPath(value, Folder);
}
