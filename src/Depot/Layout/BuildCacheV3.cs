using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Depot.Formats;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>
/// Spack 1.x's build cache layout: <c>v3/layout.json</c>, manifests under <c>v3/manifests/</c> and content-addressed
/// blobs under <c>blobs/sha256/</c>. Blobs are written before the manifest that names them.
/// </summary>
public sealed class BuildCacheV3 : IBuildCacheLayout
{
    public const string LayoutKey = "v3/layout.json";
    public const string SpecManifestPrefix = "v3/manifests/spec/";
    public const string SpecManifestSuffix = ".spec.manifest.json";
    public const string IndexManifestKey = "v3/manifests/index/index.manifest.json";
    public const string KeyManifestPrefix = "v3/manifests/key/";
    public const string KeyManifestSuffix = ".key.manifest.json";
    public const string KeyIndexManifestKey = "v3/manifests/key/keys.manifest.json";

    // Manifests hold one to three small records; a signed one is a few KiB.
    private const long ManifestLimit = 1 << 20;

    /// <summary>The exact bytes Spack writes to <c>v3/layout.json</c>.</summary>
    public static readonly byte[] LayoutJson = "{\"signing\": \"gpg\"}"u8.ToArray();

    public BuildCacheV3(IStoreReader store) => Store = store;

    /// <summary>True when <paramref name="store"/> holds this layout: <c>v3/layout.json</c>, or any manifest.</summary>
    public static async Task<bool> IsPresentAsync(IStoreReader store, CancellationToken cancellationToken = default) =>
        await store.ExistsAsync(LayoutKey, cancellationToken).ConfigureAwait(false)
        || await StoreProbe.AnyAsync(store, "v3/manifests/", cancellationToken).ConfigureAwait(false);

    public int Version => 3;

    public IStoreReader Store { get; }

    /// <summary>The store, for writing; a read-only store (plain HTTP) is refused here, before any write.</summary>
    private IObjectStore Writable => Store.RequireWritable();

    public int IndexDatabaseVersion => 8;

    public string IndexKey => IndexManifestKey;

    public static string BlobKey(string algorithm, string checksum) => $"blobs/{algorithm}/{checksum[..2]}/{checksum}";

    /// <summary>
    /// <c>v3/manifests/spec/&lt;name&gt;/&lt;name&gt;-&lt;version&gt;-&lt;hash&gt;.spec.manifest.json</c>.
    /// </summary>
    public static string SpecManifestKey(SpecNode node) =>
        $"{SpecManifestPrefix}{node.Name}/"
        + $"{PathNames.Polite($"{node.Name}-{node.Version}-{node.Hash}")}{SpecManifestSuffix}";

    public Task<SpecEntry> EntryForAsync(SpecNode node, CancellationToken cancellationToken = default) =>
        Task.FromResult(new SpecEntry(SpecManifestKey(node), node.Hash, Signed: false));

    public async IAsyncEnumerable<SpecEntry> ListSpecEntriesAsync(
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Store is not IStoreLister lister)
        {
            // Over HTTP the index says what is cached; each entry's manifest is where Spack would look.
            foreach (var node in (await this.ReadIndexAsync(cancellationToken).ConfigureAwait(false))?.CachedSpecs
                ?? [])
            {
                yield return new SpecEntry(SpecManifestKey(node), node.Hash, Signed: false);
            }

            yield break;
        }

        await foreach (var key in lister.ListKeysAsync(SpecManifestPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (!key.EndsWith(SpecManifestSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            var name = key[(key.LastIndexOf('/') + 1)..];
            if (PathNames.HashFromEntryName(name) is { } hash)
            {
                yield return new SpecEntry(key, hash, Signed: false);
            }
        }
    }

    /// <summary>Reads a small blob whole (spec, key) and checks its length and sha256 against the record.</summary>
    public Task<byte[]> ReadBlobAsync(BlobRecord record, string manifestLocation,
        CancellationToken cancellationToken = default) =>
        ReadBlobAsync(record, manifestLocation, Gzip.SpecLimit, cancellationToken);

    /// <summary>Reads a small blob whole (at most <paramref name="maxBytes"/>) and checks its length and sha256 against
    /// the record.</summary>
    public async Task<byte[]> ReadBlobAsync(BlobRecord record, string manifestLocation, long maxBytes,
        CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await Store.ReadAllBytesAsync(record.BlobKey, maxBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreObjectNotFoundException)
        {
            throw new InvalidContentException(manifestLocation,
                $"names blob {record.Checksum[..12]}… ({record.MediaType}), which is missing at "
                + $"{Store.Describe(record.BlobKey)}");
        }

        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (bytes.LongLength != record.ContentLength || actual != record.Checksum)
        {
            throw new InvalidContentException(Store.Describe(record.BlobKey),
                $"checksum mismatch: manifest {manifestLocation} expects sha256 {record.Checksum} and "
                + $"{record.ContentLength} bytes, found sha256 {actual} and {bytes.LongLength} bytes");
        }

        return bytes;
    }

    public int MaxSpecLayoutVersion => 3;

    public async Task<RawEntry> ReadRawEntryAsync(SpecEntry entry, TrustPolicy? trust,
        CancellationToken cancellationToken = default)
    {
        var location = Store.Describe(entry.Key);
        var bytes = await Store.ReadAllBytesAsync(entry.Key, 16 << 20, cancellationToken).ConfigureAwait(false);
        string? signer = null;
        BuildCacheManifest manifest;
        if (trust is null)
        {
            manifest = BuildCacheManifest.Parse(bytes, location);
        }
        else
        {
            signer = trust.Check(Encoding.UTF8.GetString(bytes), location, out var body)?.SignerFingerprint;
            manifest = BuildCacheManifest.Parse(Encoding.UTF8.GetBytes(body), location);
        }

        var record = manifest.Find(MediaTypes.SpecPrefix, prefix: true)
            ?? throw new InvalidContentException(location,
                "manifest has no spec record (" + MediaTypes.SpecPrefix + "N+json)");
        var tarball = manifest.Find(MediaTypes.Tarball)
            ?? throw new InvalidContentException(location,
                "manifest has no tarball record (" + MediaTypes.Tarball + ")");
        var blobLocation = Store.Describe(record.BlobKey);
        var blob = await ReadBlobAsync(record, location, cancellationToken).ConfigureAwait(false);
        if (blob.Length > 1 && blob[0] == 0x1f && blob[1] == 0x8b)
        {
            var json = Gzip.DecompressPooled(blob, blobLocation, out var rented);
            return new RawEntry(json, blobLocation, signer, tarball, rented);
        }

        return new RawEntry(blob, blobLocation, signer, tarball);
    }

    public TarballRef? TarballOf(SpecFile spec, RawEntry raw) =>
        raw.TarballRecord is { } t ? new TarballRef(t.BlobKey, t.Checksum, t.ContentLength) : null;

    public async Task<IReadOnlyList<PublishedKey>> ReadPublishedKeysAsync(CancellationToken cancellationToken = default)
    {
        var fingerprints = new List<string>();
        var indexBytes = await Store.TryReadAllBytesAsync(KeyIndexManifestKey, ManifestLimit, cancellationToken)
            .ConfigureAwait(false);
        if (indexBytes is not null)
        {
            var location = Store.Describe(KeyIndexManifestKey);
            var record = BuildCacheManifest.Parse(indexBytes, location).Find(MediaTypes.KeyIndex)
                ?? throw new InvalidContentException(location,
                    "key index manifest has no " + MediaTypes.KeyIndex + " record");
            fingerprints = BuildCacheLayoutExtensions.ParseKeyIndex(await ReadBlobAsync(record, location,
                cancellationToken).ConfigureAwait(false), location);
        }
        else
        {
            var listed = (Store as IStoreLister)?.ListAsync(KeyManifestPrefix, cancellationToken)
                ?? AsyncEnumerable.Empty<StoreObject>();
            await foreach (var obj in listed.ConfigureAwait(false))
            {
                var name = obj.Key[KeyManifestPrefix.Length..];
                if (!name.Contains('/', StringComparison.Ordinal)
                    && name.EndsWith(KeyManifestSuffix, StringComparison.Ordinal))
                {
                    fingerprints.Add(name[..^KeyManifestSuffix.Length]);
                }
            }
        }

        var keys = new List<PublishedKey>();
        foreach (var fpr in fingerprints.Order(StringComparer.Ordinal))
        {
            var key = KeyManifestPrefix + fpr + KeyManifestSuffix;
            var location = Store.Describe(key);
            var manifest = BuildCacheManifest.Parse(await Store.ReadAllBytesAsync(key, 1 << 20, cancellationToken)
                .ConfigureAwait(false), location);
            var record = manifest.Find(MediaTypes.Key)
                ?? throw new InvalidContentException(location, "key manifest has no " + MediaTypes.Key + " record");
            var blob = await ReadBlobAsync(record, location, cancellationToken).ConfigureAwait(false);
            keys.Add(new PublishedKey(fpr, Encoding.ASCII.GetString(blob), Store.Describe(record.BlobKey)));
        }

        return keys;
    }

    public async Task PublishKeysAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default)
    {
        foreach (var key in keys)
        {
            var record = await PutBlobAsync(Encoding.ASCII.GetBytes(key.Armored), MediaTypes.Key, "none",
                cancellationToken).ConfigureAwait(false);
            await Writable.WriteAllBytesAsync(KeyManifestPrefix + key.Fingerprint + KeyManifestSuffix,
                new BuildCacheManifest([record]).ToJsonBytes(), cancellationToken).ConfigureAwait(false);
        }

        var published = new List<string>();
        await foreach (var obj in Writable.ListAsync(KeyManifestPrefix, cancellationToken).ConfigureAwait(false))
        {
            var name = obj.Key[KeyManifestPrefix.Length..];
            if (!name.Contains('/', StringComparison.Ordinal)
                && name.EndsWith(KeyManifestSuffix, StringComparison.Ordinal))
            {
                published.Add(name[..^KeyManifestSuffix.Length]);
            }
        }

        var index = await PutBlobAsync(BuildCacheLayoutExtensions.KeyIndexJson(published), MediaTypes.KeyIndex, "none",
            cancellationToken).ConfigureAwait(false);
        await Writable.WriteAllBytesAsync(KeyIndexManifestKey, new BuildCacheManifest([index]).ToJsonBytes(),
            cancellationToken).ConfigureAwait(false);
        await EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<(byte[] Json, string Location)?> ReadIndexBytesAsync(CancellationToken cancellationToken =
        default)
    {
        var location = Store.Describe(IndexManifestKey);
        var manifestBytes = await Store.TryReadAllBytesAsync(IndexManifestKey, ManifestLimit, cancellationToken)
            .ConfigureAwait(false);
        if (manifestBytes is null)
        {
            return null;
        }

        var manifest = BuildCacheManifest.Parse(manifestBytes, location);
        var record = manifest.Find(MediaTypes.IndexPrefix, prefix: true)
            ?? throw new InvalidContentException(location,
                "index manifest has no database record (" + MediaTypes.IndexPrefix + "N+json)");
        var bytes = await ReadBlobAsync(record, location, Gzip.IndexLimit, cancellationToken).ConfigureAwait(false);
        if (record.Compression == "gzip" || (bytes.Length > 1 && bytes[0] == 0x1f && bytes[1] == 0x8b))
        {
            bytes = Gzip.Decompress(bytes, Store.Describe(record.BlobKey), Gzip.IndexLimit);
        }

        return (bytes, Store.Describe(record.BlobKey));
    }

    /// <summary>Writes index JSON: the blob first, then the manifest naming it.</summary>
    public async Task<string> WriteIndexBytesAsync(byte[] json, CancellationToken cancellationToken = default)
    {
        var record = await PutBlobAsync(json, MediaTypes.IndexV8, "none", cancellationToken).ConfigureAwait(false);
        var manifest = new BuildCacheManifest([record]).ToJsonBytes();
        await Writable.WriteAllBytesAsync(IndexManifestKey, manifest, cancellationToken).ConfigureAwait(false);
        await EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
        return record.Checksum;
    }

    /// <summary>The blob first (content-addressed, harmless if unused), then the manifest, conditionally.</summary>
    public async Task<string?> TryWriteIndexBytesAsync(byte[] json, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        var record = await PutBlobAsync(json, MediaTypes.IndexV8, "none", cancellationToken).ConfigureAwait(false);
        var manifest = new BuildCacheManifest([record]).ToJsonBytes();
        if (!await Writable.WriteIfUnchangedAsync(IndexManifestKey, new MemoryStream(manifest, writable: false),
            expectedVersion, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        await EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
        return record.Checksum;
    }

    /// <summary>The index blob is written as a stream (hashed on another core on its way, staged, then named by its
    /// sha256), then the manifest, conditionally.</summary>
    public async Task<(string Checksum, IndexSnapshot Table)?> TryWriteIndexAsync(ComposedIndex index,
        string? expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        BlobRecord record;
        IndexSnapshot table;
        await using (var staged = await Writable.CreateStagedAsync(cancellationToken).ConfigureAwait(false))
        {
            string checksum;
            long length;
            await using (var hashing = new ParallelChecksumStream(staged.Content))
            {
                table = await index.WriteToAsync(hashing, cancellationToken).ConfigureAwait(false);
                (checksum, length) = await hashing.FinishAsync().ConfigureAwait(false);
            }

            record = new BlobRecord(length, MediaTypes.IndexV8, "none", "sha256", checksum);
            var existing = await Store.GetInfoAsync(record.BlobKey, cancellationToken).ConfigureAwait(false);
            if (existing is null || existing.Length != length)
            {
                await staged.CommitAsync(record.BlobKey, cancellationToken).ConfigureAwait(false);
            }
        }

        var manifest = new BuildCacheManifest([record]).ToJsonBytes();
        if (!await Writable.WriteIfUnchangedAsync(IndexManifestKey, new MemoryStream(manifest, writable: false),
            expectedVersion, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        await EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
        return (record.Checksum, table);
    }

    /// <summary>
    /// False when the index manifest names a blob that is missing or not the length it records (truncated, replaced):
    /// cheap, the manifest and one stat, no read. True when there is no index (nothing to check).
    /// </summary>
    public async Task<bool> IndexBlobIntactAsync(CancellationToken cancellationToken = default)
    {
        var bytes = await Store.TryReadAllBytesAsync(IndexManifestKey, ManifestLimit, cancellationToken)
            .ConfigureAwait(false);
        var record = bytes is null ? null
            : BuildCacheManifest.Parse(bytes, Store.Describe(IndexManifestKey))
                .Find(MediaTypes.IndexPrefix, prefix: true);
        return record is null
            || (await Store.GetInfoAsync(record.BlobKey, cancellationToken).ConfigureAwait(false))?.Length
                == record.ContentLength;
    }

    public async Task<string?> ReadIndexChecksumAsync(CancellationToken cancellationToken = default)
    {
        var bytes = await Store.TryReadAllBytesAsync(IndexManifestKey, ManifestLimit, cancellationToken)
            .ConfigureAwait(false);
        return bytes is null ? null
            : BuildCacheManifest.Parse(bytes, Store.Describe(IndexManifestKey))
                .Find(MediaTypes.IndexPrefix, prefix: true)?.Checksum;
    }

    /// <summary>Stores bytes as a content-addressed blob (skipped when an equal blob exists) and returns its
    /// record.</summary>
    public async Task<BlobRecord> PutBlobAsync(byte[] content, string mediaType, string compression,
        CancellationToken cancellationToken = default)
    {
        var checksum = Convert.ToHexStringLower(SHA256.HashData(content));
        var record = new BlobRecord(content.LongLength, mediaType, compression, "sha256", checksum);
        var existing = await Store.GetInfoAsync(record.BlobKey, cancellationToken).ConfigureAwait(false);
        if (existing is null || existing.Length != content.LongLength)
        {
            await Writable.WriteAllBytesAsync(record.BlobKey, content, cancellationToken).ConfigureAwait(false);
        }

        return record;
    }

    /// <summary>Writes <c>v3/layout.json</c> if it is absent, as Spack does after every write.</summary>
    public async Task EnsureLayoutJsonAsync(CancellationToken cancellationToken = default)
    {
        if (!await Store.ExistsAsync(LayoutKey, cancellationToken).ConfigureAwait(false))
        {
            await Writable.WriteAllBytesAsync(LayoutKey, LayoutJson, cancellationToken).ConfigureAwait(false);
        }
    }

    public IBuildCacheWriter CreateWriter(EntryWriterOptions options) => new BuildCacheV3Writer(this, options);
}
