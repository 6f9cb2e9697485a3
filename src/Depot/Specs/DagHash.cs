using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Depot.Formats;

namespace Depot.Specs;

/// <summary>
/// Spack's DAG hash: base32(sha1(node JSON without its hash keys)), lower case, 32 characters. The node text is
/// re-serialised the way Python's <c>json.dumps</c> writes it, keeping the stored key order.
/// </summary>
public static class DagHash
{
    /// <summary>Length of a full DAG hash.</summary>
    public const int Length = 32;

    private static readonly HashSet<string> HashKeys = ["hash", "full_hash", "build_hash"];

    /// <summary>Recomputes the hash of one node object as stored in a spec file or index.</summary>
    public static string Compute(JsonElement node)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        new PythonJsonWriter(buffer).WriteElement(node, HashKeys.Contains);
#pragma warning disable CA5350 // SHA-1 is what Spack's DAG hash is defined with; it identifies, it does not secure.
        var hash = Base32.EncodeLower(SHA1.HashData(buffer.WrittenSpan));
#pragma warning restore CA5350

        // Spliced specs ("frankenhash"): keep the last 7 characters of the build spec's hash.
        if (node.TryGetProperty("build_spec", out var buildSpec) && buildSpec.ValueKind == JsonValueKind.Object
            && buildSpec.TryGetProperty("hash", out var buildHash) && buildHash.GetString() is { Length: Length } bh)
        {
            hash = hash[..25] + bh[25..];
        }

        return hash;
    }

    /// <summary>True when <paramref name="text"/> looks like a full DAG hash.</summary>
    public static bool IsValid(string? text) => text is { Length: Length } && Base32.IsLowerBase32(text);
}
