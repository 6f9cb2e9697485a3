using Depot.Formats;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>
/// One build cache layout on a store (Spack 1.x's v3, the v2 <c>build_cache/</c> layout of Spack 0.21 to 0.23, or
/// Spack's OCI layout in a registry): where entries and the index live and how they are read; entries are written by
/// its <see cref="CreateWriter"/>.
/// </summary>
public interface IBuildCacheLayout
{
    /// <summary>3 or 2.</summary>
    int Version { get; }

    /// <summary>The store the layout reads (and, when it is a full store, writes).</summary>
    IStoreReader Store { get; }

    /// <summary>Database version of this layout's index (8 for v3, 7 for v2).</summary>
    int IndexDatabaseVersion { get; }

    /// <summary>The key of the index, for messages.</summary>
    string IndexKey { get; }

    /// <summary>"v3", "v2" or "oci", for messages.</summary>
    string Name => "v" + Version;

    /// <summary>Where this layout keeps the entry of <paramref name="node"/> (whether or not it is there).</summary>
    Task<SpecEntry> EntryForAsync(SpecNode node, CancellationToken cancellationToken = default);

    /// <summary>Lists spec entries by name only; nothing is read.</summary>
    IAsyncEnumerable<SpecEntry> ListSpecEntriesAsync(CancellationToken cancellationToken = default);

    /// <summary>Highest <c>buildcache_layout_version</c> inside spec files that this layout accepts.</summary>
    int MaxSpecLayoutVersion { get; }

    /// <summary>
    /// Reads an entry down to its spec JSON: checks the signature under <paramref name="trust"/> (null: not checked,
    /// as Spack reads entries for its index) and the spec blob's size and checksum (v3), and unwraps gzip and
    /// clearsigning. The JSON itself is not parsed here.
    /// </summary>
    /// <exception cref="InvalidContentException">The entry is malformed or a checksum does not match.</exception>
    /// <exception cref="Signing.SignatureException">The signature is required and missing, or does not
    /// verify.</exception>
    Task<RawEntry> ReadRawEntryAsync(SpecEntry entry, Signing.TrustPolicy? trust,
        CancellationToken cancellationToken = default);

    /// <summary>The tarball an entry's spec points at, or null when the entry does not say (v2 without
    /// checksum).</summary>
    TarballRef? TarballOf(SpecFile spec, RawEntry raw);

    /// <summary>Public keys published on the mirror (v3 key manifests, v2 <c>_pgp/</c>), listed by the key index or by
    /// name.</summary>
    Task<IReadOnlyList<PublishedKey>> ReadPublishedKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>Publishes public keys where Spack looks for them and rewrites the key index from what is
    /// there.</summary>
    Task PublishKeysAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default);

    /// <summary>
    /// The index's identity, read cheaply: the v3 index blob's sha256, or the v2 <c>index.json.hash</c>. Null when
    /// there is no index or the identity cannot be had without reading the index itself.
    /// </summary>
    Task<string?> ReadIndexChecksumAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the index JSON (checksum checked, gzip undone) and where it came from, or null when there is
    /// none.</summary>
    /// <exception cref="InvalidContentException">The index exists but its manifest is malformed or it fails its
    /// checksum.</exception>
    Task<(byte[] Json, string Location)?> ReadIndexBytesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes index JSON as this layout stores it, so that a reader sees the old index until the new one is complete.
    /// </summary>
    /// <returns>The new index's checksum (what <see cref="ReadIndexChecksumAsync"/> will answer).</returns>
    Task<string> WriteIndexBytesAsync(byte[] json, CancellationToken cancellationToken = default);

    /// <summary>
    /// Like <see cref="WriteIndexBytesAsync"/>, but only if the object at <see cref="IndexKey"/> still has
    /// <paramref name="expectedVersion"/> (null: there is none). Returns null, having changed nothing a reader uses,
    /// when another writer replaced the index first.
    /// </summary>
    Task<string?> TryWriteIndexBytesAsync(byte[] json, string? expectedVersion,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Like <see cref="TryWriteIndexBytesAsync"/> for an index the composer planned, which a layout may write as a
    /// stream. Returns the new index's checksum and the table of what was written, or null when another writer
    /// replaced the index first. The default writes it to memory first.
    /// </summary>
    async Task<(string Checksum, IndexSnapshot Table)?> TryWriteIndexAsync(ComposedIndex index,
        string? expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        using var memory = new MemoryStream();
        var table = await index.WriteToAsync(memory, cancellationToken).ConfigureAwait(false);
        return await TryWriteIndexBytesAsync(memory.ToArray(), expectedVersion, cancellationToken)
            .ConfigureAwait(false) is { } checksum ? (checksum, table) : null;
    }

    /// <summary>
    /// A writer of entries in this layout (on the same store), signing with <paramref name="options"/>' key if any.
    /// </summary>
    IBuildCacheWriter CreateWriter(EntryWriterOptions options);
}

/// <summary>A public key as published on a mirror: the fingerprint it is filed under and its armored text.</summary>
public sealed record PublishedKey(string Fingerprint, string Armored, string Location);

/// <summary>An entry read down to its spec JSON (plain UTF-8, unwrapped), with who signed it and its tarball record
/// (v3).</summary>
/// <remarks>When <paramref name="PooledBuffer"/> is set, <see cref="Json"/> lives in it: call <see cref="Release"/>
/// when done.</remarks>
public sealed record RawEntry(ReadOnlyMemory<byte> Json, string Location, string? SignerFingerprint,
    BlobRecord? TarballRecord, byte[]? PooledBuffer = null)
{
    /// <summary>Returns a pooled buffer; <see cref="Json"/> must not be used afterwards.</summary>
    public void Release()
    {
        if (PooledBuffer is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(PooledBuffer);
        }
    }
}

public static class BuildCacheLayoutExtensions
{
    /// <summary>
    /// Reads and parses an entry: signature (under <paramref name="trust"/>), checksums, spec file, the layout version
    /// inside it, and that the spec's hash is the one the entry's name carries.
    /// </summary>
    public static async Task<EntryContent> ReadEntryAsync(this IBuildCacheLayout layout, SpecEntry entry,
        Signing.TrustPolicy? trust, CancellationToken cancellationToken = default)
    {
        var raw = await layout.ReadRawEntryAsync(entry, trust, cancellationToken).ConfigureAwait(false);
        SpecFile spec;
        try
        {
            spec = SpecFile.Parse(raw.Json.Span, raw.Location);
        }
        finally
        {
            raw.Release();
        }

        CheckLayoutVersion(layout, spec.BuildcacheLayoutVersion, raw.Location);
        CheckHash(layout, entry, spec.Root.Hash);
        return new EntryContent(spec, layout.TarballOf(spec, raw), raw.SignerFingerprint);
    }

    /// <summary>Reads and parses the index, or returns null when the cache has none.</summary>
    /// <exception cref="InvalidContentException">The index exists but is malformed or fails its checksum.</exception>
    public static async Task<BuildCacheIndex?> ReadIndexAsync(this IBuildCacheLayout layout,
        CancellationToken cancellationToken = default) =>
        await layout.ReadIndexBytesAsync(cancellationToken).ConfigureAwait(false) is { } found
            ? BuildCacheIndex.Parse(found.Json, found.Location)
            : null;

    /// <summary>Reads an entry's spec without checking signatures.</summary>
    public static async Task<SpecFile> ReadSpecAsync(this IBuildCacheLayout layout, SpecEntry entry,
        CancellationToken cancellationToken = default) =>
        (await layout.ReadEntryAsync(entry, null, cancellationToken).ConfigureAwait(false)).Spec;

    internal static void CheckLayoutVersion(IBuildCacheLayout layout, int version, string location)
    {
        if (version > layout.MaxSpecLayoutVersion)
        {
            throw new InvalidContentException(location,
                $"buildcache_layout_version {version} is too new (Depot reads up to {layout.MaxSpecLayoutVersion})");
        }
    }

    internal static void CheckHash(IBuildCacheLayout layout, SpecEntry entry, string rootHash)
    {
        if (rootHash != entry.Hash)
        {
            throw new InvalidContentException(layout.Store.Describe(entry.Key),
                $"the spec inside has hash {rootHash}, not the {entry.Hash} its name says");
        }
    }

    /// <summary><c>{"keys":{"FPR":{},...}}</c>, compact with sorted fingerprints, as Spack writes key
    /// indexes.</summary>
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
            using var doc = System.Text.Json.JsonDocument.Parse(json, SpecFile.DocumentOptions);
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("keys", out var keys)
                || keys.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw new InvalidContentException(location, "key index has no 'keys' object");
            }

            return keys.EnumerateObject().Select(p => p.Name).ToList();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a name that is not valid UTF-8.
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }
    }
}
