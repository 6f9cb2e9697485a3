using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Depot.Formats;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Depot.Storage.Oci;

namespace Depot.Layout.Oci;

/// <summary>
/// Spack's build cache in an OCI registry (<c>mirrors-and-transport.md</c> §7): one image per spec in one repository,
/// tagged <c>name-version-hash.spack</c>; its config blob is the spec file (plus a runnable image config), its last
/// layer the spec's tarball; the <c>index.spack</c> image's one layer is the index JSON. Depot adds what Spack lacks
/// without changing what Spack reads: a signature per image (<see cref="OciSignatures"/>), and published keys as
/// small artifacts (<see cref="OciStore"/> objects under <c>keys/</c>).
/// </summary>
public sealed class BuildCacheOci(OciStore store) : IBuildCacheLayout
{
    public const string IndexTag = "index.spack";
    public const string TagSuffix = ".spack";
    private const string KeyPrefix = "keys/";

    public int Version => 3;

    public string Name => "oci";

    public IStoreReader Store => store;

    public OciStore Oci => store;

    public int IndexDatabaseVersion => 8;

    public string IndexKey => IndexTag;

    public int MaxSpecLayoutVersion => 3;

    /// <summary>
    /// Spack's tag for a spec: <c>name-version-hash.spack</c> with every character outside <c>[A-Za-z0-9_.-]</c> made
    /// <c>_</c>, and, past 128 characters, the first 64 and the last 64.
    /// </summary>
    public static string TagFor(SpecNode node)
    {
        var tag = PathNames.Polite($"{node.Name}-{node.Version}-{node.Hash}{TagSuffix}");
        return tag.Length > 128 ? tag[..64] + tag[^64..] : tag;
    }

    public Task<SpecEntry> EntryForAsync(SpecNode node, CancellationToken cancellationToken = default) =>
        Task.FromResult(new SpecEntry(TagFor(node), node.Hash, Signed: false));

    public async IAsyncEnumerable<SpecEntry> ListSpecEntriesAsync(
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var tag in store.Registry.ListTagsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (tag != IndexTag && tag.EndsWith(TagSuffix, StringComparison.Ordinal)
                && PathNames.HashFromEntryName(tag) is { } hash)
            {
                yield return new SpecEntry(tag, hash, Signed: false);
            }
        }
    }

    /// <summary>An image as read: its manifest and digest, the config bytes (the spec file) and the tarball
    /// layer.</summary>
    public sealed record SpecImage(OciImageManifest Manifest, string ManifestDigest, long ManifestSize, byte[] Config,
        OciDescriptor Tarball);

    /// <summary>Reads a spec's image: manifest, config (digest checked) and the tarball layer's descriptor.</summary>
    /// <exception cref="InvalidContentException">No such image, or it is not a Spack image.</exception>
    public async Task<SpecImage> ReadImageAsync(string tag, CancellationToken cancellationToken = default)
    {
        var location = store.Describe(tag);
        var found = await store.Registry.GetManifestAsync(tag, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreObjectNotFoundException(location);
        var manifest = OciImageManifest.Parse(found.Bytes, location);
        if (manifest.Layers.Count == 0)
        {
            throw new InvalidContentException(location,
                "image has no layers (a Spack image's last layer is its tarball)");
        }

        var config = await store.Registry.ReadBlobAsync(manifest.Config.Digest, manifest.Config.Size, 64 << 20,
            cancellationToken).ConfigureAwait(false);
        return new SpecImage(manifest, found.Digest, found.Bytes.LongLength, config, manifest.Layers[^1]);
    }

    public async Task<RawEntry> ReadRawEntryAsync(SpecEntry entry, TrustPolicy? trust,
        CancellationToken cancellationToken = default)
    {
        var image = await ReadImageAsync(entry.Key, cancellationToken).ConfigureAwait(false);
        var location = store.Describe(entry.Key);
        string? signer = null;
        if (trust is not null)
        {
            var configText = Encoding.UTF8.GetString(image.Config);
            var signature = await OciSignatures.FindAsync(store.Registry, image.ManifestDigest, cancellationToken)
                .ConfigureAwait(false);
            if (signature is null)
            {
                trust.Check(configText, location, out _); // throws when signatures are required
            }
            else
            {
                signer = trust.Check(signature.Value.Text, signature.Value.Location, out var body)?.SignerFingerprint;
                if (body.TrimEnd('\r', '\n') != configText.TrimEnd('\r', '\n'))
                {
                    throw new SignatureException(signature.Value.Location, SignatureFailure.BadSignature,
                        $"signs a different spec document than the config of {location}");
                }
            }
        }

        CheckTarballMatchesConfig(image, location);
        var tarball = new BlobRecord(image.Tarball.Size, MediaTypes.Tarball, "gzip", "sha256", image.Tarball.Hex);
        return new RawEntry(image.Config, store.Describe(entry.Key), signer, tarball);
    }

    public TarballRef? TarballOf(SpecFile spec, RawEntry raw) =>
        raw.TarballRecord is { } t ? new TarballRef(t.BlobKey, t.Checksum, t.ContentLength) : null;

    public async Task<IReadOnlyList<PublishedKey>> ReadPublishedKeysAsync(CancellationToken cancellationToken = default)
    {
        var keys = new List<PublishedKey>();
        await foreach (var key in store.ListKeysAsync(KeyPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (key.EndsWith(".pub", StringComparison.Ordinal))
            {
                var bytes = await store.ReadAllBytesAsync(key, 1 << 20, cancellationToken).ConfigureAwait(false);
                keys.Add(new PublishedKey(key[KeyPrefix.Length..^4], Encoding.ASCII.GetString(bytes),
                    store.Describe(key)));
            }
        }

        return keys;
    }

    public async Task PublishKeysAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default)
    {
        foreach (var key in keys)
        {
            await store.WriteAllBytesAsync($"{KeyPrefix}{key.Fingerprint}.pub", Encoding.ASCII.GetBytes(key.Armored),
                cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<string?> ReadIndexChecksumAsync(CancellationToken cancellationToken = default)
    {
        var found = await store.Registry.GetManifestAsync(IndexTag, cancellationToken).ConfigureAwait(false);
        return found is null ? null : IndexLayer(found).Hex;
    }

    public async Task<(byte[] Json, string Location)?> ReadIndexBytesAsync(CancellationToken cancellationToken =
        default)
    {
        var found = await store.Registry.GetManifestAsync(IndexTag, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return null;
        }

        var layer = IndexLayer(found);
        // The same cap as every layout's index (20,000 specs are about 30 MB): a manifest claiming more is refused
        // unread.
        var bytes = await store.Registry.ReadBlobAsync(layer.Digest, layer.Size, 512L << 20, cancellationToken)
            .ConfigureAwait(false);
        var location = store.Describe($"blobs/sha256/{layer.Hex[..2]}/{layer.Hex}");
        return (bytes.Length > 1 && bytes[0] == 0x1f && bytes[1] == 0x8b
            ? Gzip.Decompress(bytes, location, Gzip.IndexLimit) : bytes, location);
    }

    /// <summary>The index JSON as a blob, <c>{}</c> as config, then the <c>index.spack</c> manifest, as Spack writes
    /// them.</summary>
    public async Task<string> WriteIndexBytesAsync(byte[] json, CancellationToken cancellationToken = default)
    {
        var manifest = await UploadIndexAsync(json, cancellationToken).ConfigureAwait(false);
        await store.Registry.PutManifestAsync(IndexTag, manifest.ToJsonBytes(), cancellationToken)
            .ConfigureAwait(false);
        return manifest.Layers[0].Hex;
    }

    /// <summary>Registries have no conditional manifest PUT: the tag is compared just before it is replaced.</summary>
    public async Task<string?> TryWriteIndexBytesAsync(byte[] json, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        var manifest = await UploadIndexAsync(json, cancellationToken).ConfigureAwait(false);
        var current = await store.Registry.HeadManifestAsync(IndexTag, cancellationToken).ConfigureAwait(false);
        if (current?.Digest != expectedVersion)
        {
            return null;
        }

        await store.Registry.PutManifestAsync(IndexTag, manifest.ToJsonBytes(), cancellationToken)
            .ConfigureAwait(false);
        return manifest.Layers[0].Hex;
    }

    private async Task<OciImageManifest> UploadIndexAsync(byte[] json, CancellationToken cancellationToken)
    {
        var layer = await store.Registry.PutBlobIfMissingAsync(json, cancellationToken).ConfigureAwait(false);
        var config = await store.Registry.PutBlobIfMissingAsync("{}"u8.ToArray(), cancellationToken)
            .ConfigureAwait(false);
        return new OciImageManifest(OciMediaTypes.ImageManifest,
            new OciDescriptor(OciMediaTypes.ImageConfig, config, 2),
            [new OciDescriptor(OciMediaTypes.Layer, layer, json.LongLength)]);
    }

    private OciDescriptor IndexLayer(OciManifestBytes found)
    {
        var location = store.Describe(IndexTag);
        var manifest = OciImageManifest.Parse(found.Bytes, location);
        return manifest.Layers.Count == 1 ? manifest.Layers[0]
            : throw new InvalidContentException(location, $"index image has {manifest.Layers.Count} layers, not 1");
    }

    // The config's binary_cache_checksum must name the tarball layer: a config pointing elsewhere is a tampered image.
    private static void CheckTarballMatchesConfig(SpecImage image, string location)
    {
        try
        {
            using var doc = JsonDocument.Parse(image.Config);
            if (doc.RootElement.TryGetProperty("binary_cache_checksum", out var checksum)
                && checksum.TryGetProperty("hash", out var hash)
                && hash.GetString() is { } hex && hex != image.Tarball.Hex)
            {
                throw new InvalidContentException(location,
                    $"config says the tarball is sha256 {hex}, but the image's last layer is {image.Tarball.Digest}");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(location, "config is not JSON: " + e.Message);
        }
    }

    public IBuildCacheWriter CreateWriter(EntryWriterOptions options) => new OciImageWriter(this, options);
}
