using System.Buffers;
using System.Text;
using Depot.Archive;
using Depot.Formats;
using Depot.Layout;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Operations;

/// <summary>
/// Writes an entry's metadata once its tarball is staged, in a mirror's layout — for push and for copy alike:
/// v3: tarball blob, spec blob, (signed) manifest; v2: tarball, then the (signed) spec file naming its checksum;
/// OCI: the tarball as a layer now, the image once all layers are up (<see cref="OciImageWriter"/>).
/// </summary>
/// <param name="store">The mirror.</param>
/// <param name="layout">Its layout.</param>
/// <param name="key">Signs entries (null: unsigned).</param>
/// <param name="prefixes">Build and local prefix of a node, for OCI images' search paths (null: unknown).</param>
/// <param name="baseImage">OCI: the image spec images are built on (null: none).</param>
internal sealed class EntryWriter(IObjectStore store, PushLayout layout, PgpSecretKey? key, Func<SpecNode, (string Build, string Local)?>? prefixes = null,
    string? baseImage = null)
{
    private readonly PgpPrivateKey? privateKey = key?.ExtractPrivateKey(Array.Empty<char>());
    private readonly Lock signing = new();

    private bool Signed => key is not null;

    /// <summary>For the OCI layout: the images, written once every tarball is up (<see cref="OciImageWriter"/>).</summary>
    public OciImageWriter? Images { get; } = layout == PushLayout.Oci
        ? new OciImageWriter(store as Storage.Oci.OciStore ?? throw new DepotException(ErrorKind.Usage, $"{store.Root}: the OCI layout needs an oci:// mirror"), prefixes, key, baseImage)
        : null;

    /// <summary>True when the mirror holds a complete entry for the spec (signed, if this push signs).</summary>
    public async Task<bool> ExistsAsync(SpecNode spec, CancellationToken cancellationToken)
    {
        if (Images is not null)
        {
            return await Images.ExistsAsync(spec, cancellationToken).ConfigureAwait(false);
        }

        if (layout == PushLayout.V3)
        {
            var manifestKey = BuildCacheV3.SpecManifestKey(spec);
            var bytes = await store.TryReadAllBytesAsync(manifestKey, cancellationToken).ConfigureAwait(false);
            if (bytes is null)
            {
                return false;
            }

            BuildCacheManifest manifest;
            try
            {
                manifest = BuildCacheManifest.Parse(bytes, store.Describe(manifestKey));
            }
            catch (InvalidContentException)
            {
                return false; // a broken entry is replaced
            }

            if (Signed && !manifest.IsSigned)
            {
                return false;
            }

            foreach (var blob in manifest.Records)
            {
                if (await store.GetInfoAsync(blob.BlobKey, cancellationToken).ConfigureAwait(false) is not { } info || info.Length != blob.ContentLength)
                {
                    return false;
                }
            }

            return true;
        }

        var specFile = Signed
            ? await store.ExistsAsync(BuildCacheV2.SpecFileKey(spec, signed: true), cancellationToken).ConfigureAwait(false)
            : await store.ExistsAsync(BuildCacheV2.SpecFileKey(spec, signed: true), cancellationToken).ConfigureAwait(false)
              || await store.ExistsAsync(BuildCacheV2.SpecFileKey(spec, signed: false), cancellationToken).ConfigureAwait(false);
        return specFile && await store.ExistsAsync(BuildCacheV2.TarballKey(spec), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Commits the staged tarball (sha256 <paramref name="checksum"/>, <paramref name="length"/> bytes; for OCI also the
    /// sha256 of the tar inside, <paramref name="diffId"/>) and writes the entry's metadata from its spec file.
    /// </summary>
    public async Task WriteAsync(SpecFile spec, IStagedObject staged, string checksum, long length, string? diffId, CancellationToken cancellationToken)
    {
        if (Images is not null)
        {
            await Images.AddTarballAsync(spec, staged, checksum, length, diffId ?? throw new ArgumentNullException(nameof(diffId)), cancellationToken).ConfigureAwait(false);
        }
        else if (layout == PushLayout.V3)
        {
            await WriteV3Async(spec.Root, staged, checksum, length, spec, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await WriteV2Async(spec.Root, staged, checksum, spec, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WriteV3Async(SpecNode spec, IStagedObject staged, string checksum, long length, SpecFile specFile,
        CancellationToken cancellationToken)
    {
        var v3 = new BuildCacheV3(store);
        var tarball = new BlobRecord(length, MediaTypes.Tarball, "gzip", "sha256", checksum);
        await staged.CommitAsync(tarball.BlobKey, cancellationToken).ConfigureAwait(false);

        // The spec blob: the installed spec plus "buildcache_layout_version": 2, compact, gzip'd (buildcache-v3.md §4).
        var buffer = new ArrayBufferWriter<byte>();
        var json = new PythonJsonWriter(buffer);
        json.StartObject();
        json.WritePropertyName("spec");
        json.WriteElement(specFile.Document.RootElement.GetProperty("spec"));
        json.WriteNumber("buildcache_layout_version", 2);
        json.EndObject();
        var specBlob = await v3.PutBlobAsync(SpackGzip.Compress(buffer.WrittenSpan), $"{MediaTypes.SpecPrefix}{specFile.FormatVersion}+json", "gzip",
            cancellationToken).ConfigureAwait(false);

        var manifest = new BuildCacheManifest([tarball, specBlob]).ToJsonBytes();
        await store.WriteAllBytesAsync(BuildCacheV3.SpecManifestKey(spec), Sign(manifest), cancellationToken).ConfigureAwait(false);
        await v3.EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteV2Async(SpecNode spec, IStagedObject staged, string checksum, SpecFile specFile, CancellationToken cancellationToken)
    {
        await staged.CommitAsync(BuildCacheV2.TarballKey(spec), cancellationToken).ConfigureAwait(false);

        // The installed spec.json with two keys appended, json.dump(indent=0) (buildcache-v2.md §3).
        var buffer = new ArrayBufferWriter<byte>();
        var json = new PythonJsonWriter(buffer, PythonJsonStyle.IndentZero);
        json.StartObject();
        // Only the spec: an entry copied from a registry brings image-config keys a spec file has no place for.
        json.WritePropertyName("spec");
        json.WriteElement(specFile.Document.RootElement.GetProperty("spec"));

        json.WriteNumber("buildcache_layout_version", layout == PushLayout.V2 ? 1 : 2);
        json.WritePropertyName("binary_cache_checksum");
        json.StartObject();
        json.WriteString("hash_algorithm", "sha256");
        json.WriteString("hash", checksum);
        json.EndObject();
        json.EndObject();

        await store.WriteAllBytesAsync(BuildCacheV2.SpecFileKey(spec, Signed), Sign(buffer.WrittenSpan.ToArray()), cancellationToken).ConfigureAwait(false);

        // A mirror holds one spec file per entry: the other variant would shadow or contradict this one.
        await store.DeleteAsync(BuildCacheV2.SpecFileKey(spec, !Signed), cancellationToken).ConfigureAwait(false);
    }

    private byte[] Sign(byte[] text)
    {
        if (key is null)
        {
            return text;
        }

        lock (signing)
        {
            return Encoding.UTF8.GetBytes(ClearSigner.Sign(Encoding.UTF8.GetString(text), key, privateKey!));
        }
    }
}
