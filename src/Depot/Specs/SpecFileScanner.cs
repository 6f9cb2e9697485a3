using System.Text.Json;

namespace Depot.Specs;

/// <summary>What <see cref="SpecFileScanner"/> found in one spec file.</summary>
/// <param name="RootHash">Hash of <c>nodes[0]</c>.</param>
/// <param name="LayoutVersion"><c>buildcache_layout_version</c> (0 when absent).</param>
/// <param name="NewNodes">Nodes whose hash the caller did not know yet, fully parsed.</param>
public sealed record SpecFileScan(string RootHash, int LayoutVersion, IReadOnlyList<SpecNode> NewNodes);

/// <summary>
/// Walks a spec file's nodes with a forward-only reader and parses only the nodes the caller does not know yet.
/// Indexing a cache reads thousands of spec files whose DAGs overlap almost entirely; building a document for every
/// node of every file would cost several times more than the rest of the work.
/// </summary>
public static class SpecFileScanner
{
    /// <returns>The scan, or null when the file has the legacy format-1 shape (use
    /// <see cref="SpecFile.Parse"/>).</returns>
    /// <exception cref="InvalidContentException">Malformed JSON, a node without hash, or an edge to a missing
    /// node.</exception>
    public static SpecFileScan? Scan(ReadOnlySpan<byte> json, string location, Func<string, bool> isKnown)
    {
        try
        {
            return TryFastScan(json, location, isKnown) ?? ScanCore(json, location, isKnown);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a value of the wrong JSON type, or a string that is not valid UTF-8.
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }
    }

    private static ReadOnlySpan<byte> CompactStart => "{\"spec\":{\"_meta\":{\"version\":"u8;

    private static ReadOnlySpan<byte> HashKey => "\"hash\":\""u8;

    private static ReadOnlySpan<byte> LayoutKey => "\"buildcache_layout_version\":"u8;

    /// <summary>
    /// The common case, decided without tokenizing the whole file: a compact spec blob (as Spack 1.x writes them)
    /// whose every hash is already known except perhaps the root's. A vectorized search finds every
    /// <c>"hash":"...</c> (the sequence cannot occur inside a JSON string, where quotes are escaped); only the root
    /// node is read. Anything else returns null and the file is walked in full.
    /// </summary>
    private static SpecFileScan? TryFastScan(ReadOnlySpan<byte> json, string location, Func<string, bool> isKnown)
    {
        var span = json;
        if (!span.StartsWith(CompactStart))
        {
            return null;
        }

        var nodesAt = span.IndexOf("\"nodes\":[{"u8);
        if (nodesAt < 0)
        {
            return null;
        }

        // Read the root node alone.
        var start = nodesAt + 9;
        var reader = new Utf8JsonReader(span[start..], SpecFile.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        var rootHash = ReadToEndOfObject(ref reader);

        if (rootHash is null || reader.TokenType != JsonTokenType.EndObject)
        {
            return null;
        }

        var rootEnd = start + (int)reader.BytesConsumed;

        // Every other hash in the file must be one we already have; otherwise new nodes need a full walk.
        var rest = span[rootEnd..];
        int at;
        while ((at = rest.IndexOf(HashKey)) >= 0)
        {
            rest = rest[(at + HashKey.Length)..];
            var close = rest.IndexOf((byte)'"');
            if (close < 0)
            {
                return null;
            }

            var hash = System.Text.Encoding.ASCII.GetString(rest[..close]);
            if (hash != rootHash && !isKnown(hash))
            {
                return null;
            }

            rest = rest[close..];
        }

        var layoutVersion = 0;
        var layoutAt = span.LastIndexOf(LayoutKey);
        if (layoutAt >= 0)
        {
            var digits = span[(layoutAt + LayoutKey.Length)..];
            var n = 0;
            while (n < digits.Length && char.IsAsciiDigit((char)digits[n]))
            {
                n++;
            }

            if (n == 0 || !int.TryParse(digits[..n], out layoutVersion))
            {
                return null;
            }
        }

        var fresh = isKnown(rootHash) ? [] : new List<SpecNode> { ParseSlice(json, start, rootEnd, location) };
        foreach (var node in fresh)
        {
            foreach (var (_, depHash) in SpecNode.DependencyHashesOf(node))
            {
                if (!isKnown(depHash))
                {
                    return null; // let the full walk report it precisely
                }
            }
        }

        return new SpecFileScan(rootHash, layoutVersion, fresh);
    }

    private static SpecFileScan? ScanCore(ReadOnlySpan<byte> json, string location, Func<string, bool> isKnown)
    {
        var reader = new Utf8JsonReader(json, SpecFile.ReaderOptions);
        Expect(ref reader, JsonTokenType.StartObject, location, "a spec file is a JSON object");
        string? rootHash = null;
        var layoutVersion = 0;
        var sawSpec = false;
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        var fresh = new List<SpecNode>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("spec"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    return null;
                }

                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new InvalidContentException(location, "'spec' is neither an object nor a list");
                }

                sawSpec = true;
                rootHash = ScanSpec(ref reader, json, location, isKnown, hashes, fresh);
            }
            else if (reader.ValueTextEquals("buildcache_layout_version"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v))
                {
                    layoutVersion = v;
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    throw new InvalidContentException(location, "'buildcache_layout_version' is not an integer");
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (!sawSpec)
        {
            throw new InvalidContentException(location, "not a spec file: no top-level 'spec' key");
        }

        if (rootHash is null)
        {
            throw new InvalidContentException(location, "spec file has no nodes");
        }

        foreach (var node in fresh)
        {
            foreach (var (depName, depHash) in SpecNode.DependencyHashesOf(node))
            {
                if (!hashes.Contains(depHash))
                {
                    throw new InvalidContentException(location,
                        $"dependency '{depName}' of '{node.Name}' refers to hash {depHash}, which is not a node of "
                        + "this file");
                }
            }
        }

        return new SpecFileScan(rootHash, layoutVersion, fresh);
    }

    private static string? ScanSpec(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, string location,
        Func<string, bool> isKnown, HashSet<string> hashes, List<SpecNode> fresh)
    {
        string? rootHash = null;
        var sawNodes = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("nodes"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            sawNodes = true;
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new InvalidContentException(location, "'spec.nodes' is missing or not a list");
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new InvalidContentException(location, "spec node is not a JSON object");
                }

                var start = (int)reader.TokenStartIndex;
                var hash = ReadToEndOfObject(ref reader);

                var end = (int)reader.BytesConsumed;
                if (hash is null)
                {
                    // Older files may carry only full_hash/build_hash: let the full parser decide.
                    var node = ParseSlice(json, start, end, location);
                    hash = node.Hash;
                    if (!isKnown(hash))
                    {
                        fresh.Add(node);
                    }
                }
                else if (!isKnown(hash))
                {
                    fresh.Add(ParseSlice(json, start, end, location));
                }

                rootHash ??= hash;
                hashes.Add(hash);
            }
        }

        if (!sawNodes)
        {
            throw new InvalidContentException(location, "'spec.nodes' is missing or not a list");
        }

        return rootHash;
    }

    /// <summary>Reads the rest of an object (reader just past its StartObject) and returns its string "hash", if
    /// any.</summary>
    private static string? ReadToEndOfObject(ref Utf8JsonReader reader)
    {
        string? hash = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isHash = reader.ValueTextEquals("hash"u8);
            reader.Read();
            if (isHash && reader.TokenType == JsonTokenType.String)
            {
                hash = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return hash;
    }

    // The node gets its own small buffer: pointing into the file's buffer would keep every whole file alive.
    // ParseValue copies the bytes and sizes the document's token table exactly; JsonDocument.Parse would keep a
    // pooled table twice as large or more, for each of the (at 200,000 specs) 200,000 nodes an index holds at once.
    private static SpecNode ParseSlice(ReadOnlySpan<byte> json, int start, int end, string location)
    {
        var slice = json[start..end];
        if (json.StartsWith(CompactStart) && System.Text.Ascii.IsValid(slice)
            && SpecNode.FromCompactText(slice, location) is { } kept)
        {
            return kept;
        }

        var reader = new Utf8JsonReader(slice, SpecFile.ReaderOptions);
        var element = JsonElement.ParseValue(ref reader);
        return SpecNode.Parse(element, location,
            compactSource: json.StartsWith(CompactStart) && System.Text.Ascii.IsValid(slice));
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string location, string what)
    {
        if (!reader.Read() || reader.TokenType != type)
        {
            throw new InvalidContentException(location, "not a spec file: " + what);
        }
    }
}
