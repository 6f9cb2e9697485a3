using System.Runtime.InteropServices;
using System.Text.Json;

namespace Depot.Specs;

/// <summary>
/// Nodes kept as their compact text. Indexing a cache of 200,000 specs holds every new node at once, and most are
/// only copied into the index: such a node keeps its bytes, its name and its hash, and builds a document only if
/// something reads more of it (a listing row does, on a copy of its own that it drops).
/// </summary>
public sealed partial class SpecNode
{
    private readonly byte[]? compactText;
    private JsonDocument? document;

    private SpecNode(byte[] compactText, string name, string hash, string location)
    {
        this.compactText = compactText;
        Name = name;
        Hash = hash;
        this.location = location;
        IsCompactSource = true;
    }

    /// <summary>The stored bytes of a node read from compact text (<see cref="IsCompactSource"/>).</summary>
    internal ReadOnlySpan<byte> CompactText =>
        compactText ?? (IsCompactSource ? JsonMarshal.GetRawUtf8Value(Json)
            : throw new InvalidOperationException("the node was not read from compact text"));

    /// <summary>
    /// A node over <paramref name="text"/>, compact ASCII JSON of one node object (already read through once), when
    /// it names itself with a string <c>name</c> and <c>hash</c>; else null (parse it in full, which reports what is
    /// wrong).
    /// </summary>
    internal static SpecNode? FromCompactText(ReadOnlySpan<byte> text, string location)
    {
        var reader = new Utf8JsonReader(text, SpecFile.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string? name = null, hash = null;
        var names = 0;
        var hashes = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isName = reader.ValueTextEquals("name"u8);
            var isHash = !isName && reader.ValueTextEquals("hash"u8);
            reader.Read();
            if (isName || isHash)
            {
                var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                if (isName)
                {
                    (name, names) = (value, names + 1);
                }
                else
                {
                    (hash, hashes) = (value, hashes + 1);
                }
            }

            reader.Skip();
        }

        // A repeated key is left to the document's own reading, so that either way the same value wins.
        return name is null || hash is null || names != 1 || hashes != 1 ? null
            : new SpecNode(text.ToArray(), name, hash, location);
    }

    /// <summary>(name, hash) of each dependency edge, as <see cref="DependencyHashes(JsonElement)"/> reads them,
    /// without building a document for a node kept as compact text.</summary>
    internal static IEnumerable<(string Name, string Hash)> DependencyHashesOf(SpecNode node) =>
        node.compactText is null || node.document is not null ? DependencyHashes(node.Json)
            : ReadDependencyHashes(node.compactText) ?? DependencyHashes(node.Json);

    // Null when the text has more than one "dependencies" key (the document decides which one counts).
    private static List<(string Name, string Hash)>? ReadDependencyHashes(byte[] text)
    {
        var found = new List<(string, string)>();
        var reader = new Utf8JsonReader(text, SpecFile.ReaderOptions);
        reader.Read();
        var seen = false;
        var ambiguous = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("dependencies"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            if (seen)
            {
                return null;
            }

            seen = true;
            reader.Read();
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (ReadEdgeHash(ref reader, "?", ref ambiguous) is { } edge)
                    {
                        found.Add(edge);
                    }
                }
            }
            else if (reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var depName = reader.GetString()!;
                    reader.Read();
                    if (ReadEdgeHash(ref reader, depName, ref ambiguous) is { } edge)
                    {
                        found.Add(edge with { Item1 = depName });
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return ambiguous ? null : found;
    }

    // The reader is on an edge value; returns (name, hash) when it is an object with a string "hash". A repeated key
    // makes the edges ambiguous: the document reads them instead.
    private static (string, string)? ReadEdgeHash(ref Utf8JsonReader reader, string defaultName, ref bool ambiguous)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? name = null, hash = null;
        bool sawName = false, sawHash = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isName = reader.ValueTextEquals("name"u8);
            var isHash = !isName && reader.ValueTextEquals("hash"u8);
            ambiguous |= (isName && sawName) || (isHash && sawHash);
            sawName |= isName;
            sawHash |= isHash;
            reader.Read();
            if (isName && reader.TokenType == JsonTokenType.String)
            {
                name = reader.GetString();
            }
            else if (isHash && reader.TokenType == JsonTokenType.String)
            {
                hash = reader.GetString();
            }

            reader.Skip();
        }

        return hash is null ? null : (name ?? defaultName, hash);
    }

    private JsonDocument ParseCompactText() =>
        JsonDocument.Parse(compactText.AsMemory(), SpecFile.DocumentOptions);
}
