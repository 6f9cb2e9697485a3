using Depot.Specs;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>
/// One build cache layout on a store (Spack 1.x's v3, or the v2 <c>build_cache/</c> layout of Spack 0.21 to 0.23):
/// where entries and the index live and how they are read and written.
/// </summary>
public interface IBuildCacheLayout
{
    /// <summary>3 or 2.</summary>
    int Version { get; }

    IObjectStore Store { get; }

    /// <summary>Database version of this layout's index (8 for v3, 7 for v2).</summary>
    int IndexDatabaseVersion { get; }

    /// <summary>The key of the index, for messages.</summary>
    string IndexKey { get; }

    /// <summary>Lists spec entries by name only; nothing is read.</summary>
    IAsyncEnumerable<SpecEntry> ListSpecEntriesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads an entry: checks its signature under <paramref name="trust"/> (null: not checked, as Spack reads entries
    /// for its index), its spec blob's size and checksum (v3), and that the spec's hash is the one its name carries.
    /// </summary>
    /// <exception cref="InvalidContentException">The entry is malformed or its checksum does not match.</exception>
    /// <exception cref="Signing.SignatureException">The signature is required and missing, or does not verify.</exception>
    Task<EntryContent> ReadEntryAsync(SpecEntry entry, Signing.TrustPolicy? trust, CancellationToken cancellationToken = default);

    /// <summary>Public keys published on the mirror (v3 key manifests, v2 <c>_pgp/</c>), listed by the key index or by name.</summary>
    Task<IReadOnlyList<PublishedKey>> ReadPublishedKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>Publishes public keys where Spack looks for them and rewrites the key index from what is there.</summary>
    Task PublishKeysAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default);

    /// <summary>Reads the index, or returns null when the cache has none.</summary>
    /// <exception cref="InvalidContentException">The index exists but is malformed or fails its checksum.</exception>
    Task<BuildCacheIndex?> ReadIndexAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the index so that a reader sees the old one until the new one is complete.</summary>
    Task WriteIndexAsync(BuildCacheIndex index, CancellationToken cancellationToken = default);
}

/// <summary>A public key as published on a mirror: the fingerprint it is filed under and its armored text.</summary>
public sealed record PublishedKey(string Fingerprint, string Armored, string Location);

public static class BuildCacheLayoutExtensions
{
    /// <summary>Reads an entry's spec without checking signatures.</summary>
    public static async Task<SpecFile> ReadSpecAsync(this IBuildCacheLayout layout, SpecEntry entry, CancellationToken cancellationToken = default) =>
        (await layout.ReadEntryAsync(entry, null, cancellationToken).ConfigureAwait(false)).Spec;

    /// <summary><c>{"keys":{"FPR":{},...}}</c>, compact with sorted fingerprints, as Spack writes key indexes.</summary>
    internal static byte[] KeyIndexJson(IEnumerable<string> fingerprints)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new PythonJsonWriter(buffer);
        w.StartObject();
        w.WritePropertyName("keys");
        w.StartObject();
        foreach (var fpr in fingerprints.Distinct().Order(StringComparer.Ordinal))
        {
            w.WritePropertyName(fpr);
            w.StartObject();
            w.EndObject();
        }

        w.EndObject();
        w.EndObject();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Fingerprints listed in a key index blob.</summary>
    internal static List<string> ParseKeyIndex(byte[] json, string location)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw new InvalidContentException(location, "key index has no 'keys' object");
            }

            return keys.EnumerateObject().Select(p => p.Name).ToList();
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }
    }
}
