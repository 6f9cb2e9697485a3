using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Depot.Archive;
using Depot.InstallTree;
using Depot.Layout;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Operations;

/// <summary>
/// Writes one installed spec as a build cache entry, in one streaming pass: the prefix is tarred, gzip'd and hashed
/// straight into a staged object, then the entry's metadata is written last so readers never see it before its data.
/// v3: tarball blob, spec blob, (signed) manifest. v2: tarball, then the (signed) spec file naming its checksum.
/// </summary>
internal sealed class PushEntryWriter(IObjectStore store, InstallDatabase db, PushLayout layout, PgpSecretKey? key, string? spackPrefix)
{
    private readonly PgpPrivateKey? privateKey = key?.ExtractPrivateKey(Array.Empty<char>());
    private readonly Lock signing = new();

    private bool Signed => key is not null;

    /// <summary>For the OCI layout: the images, written once every tarball is up (<see cref="OciImageWriter"/>).</summary>
    public OciImageWriter? Images { get; } = layout == PushLayout.Oci
        ? new OciImageWriter(store as Storage.Oci.OciStore ?? throw new DepotException($"{store.Root}: the OCI layout needs an oci:// mirror"), db, key)
        : null;

    /// <summary>True when the mirror holds a complete entry for the spec (signed, if this push signs).</summary>
    public async Task<bool> ExistsAsync(InstallRecord record, CancellationToken cancellationToken)
    {
        if (Images is not null)
        {
            return await Images.ExistsAsync(record, cancellationToken).ConfigureAwait(false);
        }

        if (layout == PushLayout.V3)
        {
            var manifestKey = BuildCacheV3.SpecManifestKey(record.Spec);
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
            ? await store.ExistsAsync(BuildCacheV2.SpecFileKey(record.Spec, signed: true), cancellationToken).ConfigureAwait(false)
            : await store.ExistsAsync(BuildCacheV2.SpecFileKey(record.Spec, signed: true), cancellationToken).ConfigureAwait(false)
              || await store.ExistsAsync(BuildCacheV2.SpecFileKey(record.Spec, signed: false), cancellationToken).ConfigureAwait(false);
        return specFile && await store.ExistsAsync(BuildCacheV2.TarballKey(record.Spec), cancellationToken).ConfigureAwait(false);
    }

    /// <exception cref="DepotException">The prefix or its spec cannot be read.</exception>
    /// <exception cref="IOException">A file could not be read or the store could not be written.</exception>
    public async Task<PushOutcome> PushAsync(InstallRecord record, IProgress<PushProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var spec = record.Spec;
        var localPrefix = db.LocalPrefix(record);
        if (!Directory.Exists(localPrefix))
        {
            throw new DepotException($"{localPrefix}: install prefix of {spec.Name}/{spec.Hash[..7]} is missing");
        }

        var specDocument = await ReadSpecAsync(record, localPrefix, cancellationToken).ConfigureAwait(false);
        var request = ArchiveRequest(record, localPrefix);
        var total = PrefixArchiver.ContentSize(localPrefix);
        progress?.Report(new PushProgress(spec.Name, spec.Hash, 0, total));

        await using var staged = await store.CreateStagedAsync(cancellationToken).ConfigureAwait(false);
        string checksum;
        long length;
        string? diffId = null;
        await using (var hashing = new ChecksumStream(staged.Content, leaveOpen: true))
        {
            await using (var gzip = SpackGzip.CreateCompressor(hashing, leaveOpen: true))
            {
                // OCI images also name each layer by the sha256 of its uncompressed tar (rootfs.diff_ids).
                await using var uncompressed = Images is null ? null : new ChecksumStream(gzip, leaveOpen: true);
                await using (var tar = new PythonTarWriter((Stream?)uncompressed ?? gzip, leaveOpen: true))
                {
                    await PrefixArchiver.WriteAsync(tar, request, done => progress?.Report(new PushProgress(spec.Name, spec.Hash, done, total)),
                        cancellationToken).ConfigureAwait(false);
                    await tar.CloseAsync(cancellationToken).ConfigureAwait(false);
                }

                diffId = uncompressed?.Sha256Hex();
            }

            checksum = hashing.Sha256Hex();
            length = hashing.BytesWritten;
        }

        if (Images is not null)
        {
            await Images.AddTarballAsync(record, staged, checksum, length, diffId!, specDocument, cancellationToken).ConfigureAwait(false);
        }
        else if (layout == PushLayout.V3)
        {
            await WriteV3Async(spec, staged, checksum, length, specDocument, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await WriteV2Async(spec, staged, checksum, specDocument, cancellationToken).ConfigureAwait(false);
        }

        return new PushOutcome(spec.Name, spec.Hash, SpecFormatter.Short(spec), PushStatus.Pushed, null, total, length, clock.Elapsed);
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
        foreach (var property in specFile.Document.RootElement.EnumerateObject())
        {
            if (property.Name is not ("buildcache_layout_version" or "binary_cache_checksum"))
            {
                json.WritePropertyName(property.Name);
                json.WriteElement(property.Value);
            }
        }

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

    private PrefixArchiveRequest ArchiveRequest(InstallRecord record, string localPrefix)
    {
        var root = db.RecordedRoot;
        var spack021 = layout == PushLayout.V2;
        var hashToPrefix = RelocationPrefixes.HashToPrefix(db, record, depthFirst: spack021);
        var sbang = RelocationPrefixes.SbangPath(root);
        var matcher = new PrefixMatcher(hashToPrefix.Select(p => p.Value).Append(sbang).Append(root));
        var template = new BuildInfo(sbang, root, RelocationPrefixes.SpackPrefix(root, spackPrefix),
            Path.GetRelativePath(root, record.Path!).Replace('\\', '/'), hashToPrefix, [], [], []);
        return new PrefixArchiveRequest(localPrefix, record.Path!, IncludeParentDirectories: !spack021, matcher,
            spack021 ? BuildInfoStyle.Block : BuildInfoStyle.Flow, template);
    }

    // The prefix's own .spack/spec.json is what Spack caches; if it is missing or names another spec, the database's
    // nodes are assembled into the same shape (root first, then dependencies depth-first in name order).
    private async Task<SpecFile> ReadSpecAsync(InstallRecord record, string localPrefix, CancellationToken cancellationToken)
    {
        var path = Path.Combine(localPrefix, ".spack", "spec.json");
        if (File.Exists(path))
        {
            try
            {
                var file = SpecFile.Parse(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), path);
                if (file.Root.Hash == record.Spec.Hash)
                {
                    return file;
                }
            }
            catch (InvalidContentException)
            {
                // Fall back to the database below.
            }
        }

        var buffer = new ArrayBufferWriter<byte>();
        var json = new PythonJsonWriter(buffer);
        json.StartObject();
        json.WritePropertyName("spec");
        json.StartObject();
        json.WritePropertyName("_meta");
        json.StartObject();
        json.WriteNumber("version", db.Version >= 8 ? 5 : 4);
        json.EndObject();
        json.WritePropertyName("nodes");
        json.StartArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<InstallRecord>([record]);
        while (stack.Count > 0)
        {
            var r = stack.Pop();
            if (!seen.Add(r.Spec.Hash))
            {
                continue;
            }

            json.WriteElement(r.Spec.Json);
            foreach (var edge in r.Spec.Dependencies.OrderByDescending(e => e.Name, StringComparer.Ordinal))
            {
                var dep = db.Find(edge.Hash) ?? throw new DepotException(
                    $"{InstallDatabase.IndexPath(db.Root)}: {record.Spec.Name}/{record.Spec.Hash[..7]} depends on {edge.Name}/{edge.Hash[..7]}, which the database does not hold");
                stack.Push(dep);
            }
        }

        json.EndArray();
        json.EndObject();
        json.EndObject();
        return SpecFile.Parse(buffer.WrittenSpan, InstallDatabase.IndexPath(db.Root));
    }
}
