using System.Buffers;
using Depot.Formats;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>
/// Writes layout v3 entries as Spack 1.x does: the tarball blob, the spec blob, then the (clearsigned) manifest naming
/// both, and <c>v3/layout.json</c>; published keys as key manifests and the key index.
/// </summary>
public sealed class BuildCacheV3Writer(BuildCacheV3 layout, EntryWriterOptions options) : IBuildCacheWriter
{
    private readonly EntrySigner? signer = EntrySigner.For(options.SigningKey);

    private IObjectStore Store => layout.Store.RequireWritable();

    public IBuildCacheLayout Layout => layout;

    public bool Signs => signer is not null;

    public bool NeedsTarDigest => false;

    public bool CompletesLater => false;

    /// <summary>
    /// A manifest that parses (and is signed when this writer signs), and every blob it names, at its size.
    /// </summary>
    public async Task<bool> ExistsAsync(SpecNode spec, CancellationToken cancellationToken = default)
    {
        var manifestKey = BuildCacheV3.SpecManifestKey(spec);
        var bytes = await Store.TryReadAllBytesAsync(manifestKey, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return false;
        }

        BuildCacheManifest manifest;
        try
        {
            manifest = BuildCacheManifest.Parse(bytes, Store.Describe(manifestKey));
        }
        catch (InvalidContentException)
        {
            return false; // a broken entry is replaced
        }

        if (Signs && !manifest.IsSigned)
        {
            return false;
        }

        foreach (var blob in manifest.Records)
        {
            var info = await Store.GetInfoAsync(blob.BlobKey, cancellationToken).ConfigureAwait(false);
            if (info is null || info.Length != blob.ContentLength)
            {
                return false;
            }
        }

        return true;
    }

    public async Task WriteAsync(SpecFile spec, StagedTarball tarball, CancellationToken cancellationToken = default)
    {
        var record = new BlobRecord(tarball.Length, MediaTypes.Tarball, "gzip", "sha256", tarball.Sha256);
        await tarball.Staged.CommitAsync(record.BlobKey, cancellationToken).ConfigureAwait(false);

        var (compressed, mediaType) = SpecBlob(spec);
        var specBlob = await layout.PutBlobAsync(compressed, mediaType, "gzip", cancellationToken)
            .ConfigureAwait(false);

        var manifest = new BuildCacheManifest([record, specBlob]).ToJsonBytes();
        await Store.WriteAllBytesAsync(BuildCacheV3.SpecManifestKey(spec.Root), signer?.Sign(manifest) ?? manifest,
            cancellationToken).ConfigureAwait(false);
        await layout.EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The spec blob of an entry: the installed spec plus <c>"buildcache_layout_version": 2</c>, compact, gzip'd
    /// (buildcache-v3.md §4), and its media type.
    /// </summary>
    internal static (byte[] Gzipped, string MediaType) SpecBlob(SpecFile spec)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var json = new PythonJsonWriter(buffer);
        json.StartObject();
        json.WritePropertyName("spec");
        json.WriteElement(spec.Document.RootElement.GetProperty("spec"));
        json.WriteNumber("buildcache_layout_version", 2);
        json.EndObject();
        return (SpackGzip.Compress(buffer.WrittenSpan), $"{MediaTypes.SpecPrefix}{spec.FormatVersion}+json");
    }

    /// <summary>
    /// From another v3 mirror: the tarball, the manifest's other blobs, then the manifest's own bytes.
    /// </summary>
    public async Task<long?> TryCopyAsync(IBuildCacheLayout from, SpecEntry entry, TarballRef tarball,
        Action<long>? progress, CancellationToken cancellationToken = default)
    {
        if (from is not BuildCacheV3)
        {
            return null;
        }

        var metadata = await from.Store.ReadAllBytesAsync(entry.Key, 16 << 20, cancellationToken).ConfigureAwait(false);
        var length = await CheckedCopy.CopyAsync(from.Store, tarball, Store, tarball.Key, progress, cancellationToken)
            .ConfigureAwait(false);
        var body = BuildCacheManifest.Parse(metadata, from.Store.Describe(entry.Key));
        foreach (var record in body.Records.Where(r => r.BlobKey != tarball.Key))
        {
            var blob = new TarballRef(record.BlobKey, record.Checksum, record.ContentLength);
            await CheckedCopy.CopyAsync(from.Store, blob, Store, record.BlobKey, null, cancellationToken)
                .ConfigureAwait(false);
        }

        await Store.WriteAllBytesAsync(entry.Key, metadata, cancellationToken).ConfigureAwait(false);
        await layout.EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
        return length;
    }

    public Task<IReadOnlyDictionary<string, string>> CompleteAsync(int parallelism,
        CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

    /// <summary>The manifest clearsigned where it is.</summary>
    public Task<bool> SignAsync(SpecEntry entry, bool force, CancellationToken cancellationToken = default) =>
        EntrySigner.Required(signer, layout).SignInPlaceAsync(layout, entry, entry.Key, force, cancellationToken);

    public async Task FinishAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default)
    {
        if (keys.Count > 0)
        {
            await layout.PublishKeysAsync(keys, cancellationToken).ConfigureAwait(false);
        }
    }
}
