using System.Text;
using System.Text.Json;
using Depot.Formats;
using Depot.Signing;

namespace Depot.Specs;

/// <summary>The tarball checksum a v2-layout spec file carries (<c>binary_cache_checksum</c>).</summary>
public sealed record BinaryCacheChecksum(string Algorithm, string Hash);

/// <summary>
/// A spec file: <c>{"spec": {"_meta": {"version": N}, "nodes": [...]}, ...}</c>, as found in install prefixes and
/// build caches. Reads format versions 1 to 5, plain, gzip-compressed or clearsigned. <c>nodes[0]</c> is the root.
/// </summary>
public sealed class SpecFile
{
    /// <summary>
    /// How deep spec, manifest and index JSON may nest (real files: under 10). Set explicitly wherever mirror JSON is
    /// parsed, so a crafted file is one malformed-JSON error, and nothing that walks a parsed document recursively
    /// can be driven deeper than this.
    /// </summary>
    public const int MaxJsonDepth = 256;

    internal static JsonDocumentOptions DocumentOptions => new() { MaxDepth = MaxJsonDepth };

    internal static JsonReaderOptions ReaderOptions => new() { MaxDepth = MaxJsonDepth };

    private readonly Dictionary<string, SpecNode> byHash;

    private SpecFile(JsonDocument document, int formatVersion, List<SpecNode> nodes)
    {
        Document = document;
        FormatVersion = formatVersion;
        Nodes = nodes;
        byHash = new Dictionary<string, SpecNode>(StringComparer.Ordinal);
        foreach (var n in nodes)
        {
            byHash.TryAdd(n.Hash, n);
        }
    }

    /// <summary>The parsed document; node elements point into it.</summary>
    public JsonDocument Document { get; }

    /// <summary><c>spec._meta.version</c> (1 for the legacy list form).</summary>
    public int FormatVersion { get; }

    public IReadOnlyList<SpecNode> Nodes { get; }

    public SpecNode Root => Nodes[0];

    /// <summary><c>buildcache_layout_version</c> beside <c>spec</c>; 0 when absent.</summary>
    public int BuildcacheLayoutVersion { get; private init; }

    public BinaryCacheChecksum? BinaryCacheChecksum { get; private init; }

    /// <summary>True when the text was clearsigned (the signature is not checked here).</summary>
    public bool WasClearSigned { get; private init; }

    public SpecNode? FindByHash(string hash) => byHash.GetValueOrDefault(hash);

    /// <summary>Parses spec file bytes, unwrapping gzip and clearsigning as needed.</summary>
    /// <param name="content">The stored bytes.</param>
    /// <param name="location">File or URL, used in error messages.</param>
    /// <exception cref="InvalidContentException">The content is not a valid spec file.</exception>
    public static SpecFile Parse(ReadOnlySpan<byte> content, string location)
    {
        byte[]? inflated = null;
        if (content.Length >= 2 && content[0] == 0x1f && content[1] == 0x8b)
        {
            inflated = Gzip.Decompress(content, location);
            content = inflated;
        }

        var clearSigned = ClearSignedMessage.LooksClearSigned(content);
        if (clearSigned)
        {
            var message = ClearSignedMessage.Parse(Encoding.UTF8.GetString(content), location);
            return ParseJson(Encoding.UTF8.GetBytes(message.Body), location, true);
        }

        return ParseJson(content, location, false);
    }

    private static SpecFile ParseJson(ReadOnlySpan<byte> json, string location, bool clearSigned)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }

        try
        {
            return FromDocument(document, location, clearSigned);
        }
        catch (InvalidOperationException e)
        {
            // A value of the wrong JSON type where a reader did not check, or a string that is not valid UTF-8.
            document.Dispose();
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    private static SpecFile FromDocument(JsonDocument document, string location, bool clearSigned)
    {
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("spec", out var spec))
        {
            throw new InvalidContentException(location, "not a spec file: no top-level 'spec' key");
        }

        var nodes = new List<SpecNode>();
        int version;
        if (spec.ValueKind == JsonValueKind.Array)
        {
            version = 1;
            foreach (var item in spec.EnumerateArray())
            {
                foreach (var p in item.EnumerateObject())
                {
                    nodes.Add(SpecNode.ParseV1(p.Name, p.Value, location));
                }
            }
        }
        else if (spec.ValueKind == JsonValueKind.Object)
        {
            version = ReadFormatVersion(spec, location);
            if (!spec.TryGetProperty("nodes", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidContentException(location, "'spec.nodes' is missing or not a list");
            }

            foreach (var item in list.EnumerateArray())
            {
                nodes.Add(SpecNode.Parse(item, location));
            }
        }
        else
        {
            throw new InvalidContentException(location, "'spec' is neither an object nor a list");
        }

        if (nodes.Count == 0)
        {
            throw new InvalidContentException(location, "spec file has no nodes");
        }

        var file = new SpecFile(document, version, nodes)
        {
            BuildcacheLayoutVersion = ReadLayoutVersion(root, location),
            BinaryCacheChecksum = ReadChecksum(root, location),
            WasClearSigned = clearSigned,
        };
        // Every edge must point at a node of this file (Spack's reader fails otherwise). Only the hashes are read
        // here; the rest of each edge is parsed when someone looks at it.
        foreach (var node in nodes)
        {
            foreach (var (depName, depHash) in SpecNode.DependencyHashes(node.Json))
            {
                if (file.FindByHash(depHash) is null)
                {
                    throw new InvalidContentException(location,
                        $"dependency '{depName}' of '{node.Name}' refers to hash {depHash}, which is not a node of "
                        + "this file");
                }
            }
        }

        return file;
    }

    private static int ReadFormatVersion(JsonElement spec, string location)
    {
        if (!spec.TryGetProperty("_meta", out var meta) || !meta.TryGetProperty("version", out var v))
        {
            throw new InvalidContentException(location, "'spec._meta.version' is missing");
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n))
        {
            return n;
        }

        if (v.ValueKind == JsonValueKind.String && int.TryParse(v.GetString(), out n))
        {
            return n;
        }

        throw new InvalidContentException(location, $"'spec._meta.version' is not an integer: {v.GetRawText()}");
    }

    private static int ReadLayoutVersion(JsonElement root, string location)
    {
        if (!root.TryGetProperty("buildcache_layout_version", out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return 0;
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n))
        {
            return n;
        }

        throw new InvalidContentException(location, $"'buildcache_layout_version' is not an integer: {v.GetRawText()}");
    }

    private static BinaryCacheChecksum? ReadChecksum(JsonElement root, string location)
    {
        if (!root.TryGetProperty("binary_cache_checksum", out var c))
        {
            return null;
        }

        var algorithm = SpecNode.OptionalString(c, "hash_algorithm");
        var hash = SpecNode.OptionalString(c, "hash");
        if (algorithm is null || hash is null)
        {
            throw new InvalidContentException(location, "'binary_cache_checksum' needs 'hash_algorithm' and 'hash'");
        }

        return new BinaryCacheChecksum(algorithm, hash);
    }
}
