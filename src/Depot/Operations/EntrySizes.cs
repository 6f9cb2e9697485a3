using System.Collections.Concurrent;
using Depot.Layout;
using Depot.Layout.Oci;
using Depot.Storage;
using Depot.Storage.Oci;

namespace Depot.Operations;

/// <summary>One object an entry is made of: its key (or digest) and size.</summary>
/// <param name="Id">The object's key in the store, or an OCI digest: equal ids are one stored object.</param>
/// <param name="Length">Its size in bytes.</param>
internal sealed record EntryObject(string Id, long Length);

/// <summary>What one entry occupies: its tarball, every object it is made of, and when its metadata was
/// written.</summary>
/// <param name="TarballBytes">Size of the tarball (0 when the entry names none).</param>
/// <param name="Objects">Every object of the entry: metadata (manifest, spec file or blob, image config) and tarball.
/// </param>
/// <param name="LastModified">When the entry's metadata object was last written, when the store says.</param>
internal sealed record EntrySize(long TarballBytes, IReadOnlyList<EntryObject> Objects, DateTimeOffset? LastModified)
{
    public long Bytes => Objects.Sum(o => o.Length);
}

/// <summary>
/// The sizes and times of a layout's entries, read as cheaply as the store allows. v2 on a store that lists: one
/// listing of <c>build_cache/</c> gives every spec file's and tarball's size and time, nothing is read. v3: one listing
/// of the spec manifests (times) and one small read per manifest, because only the manifest says which blobs are an
/// entry's (blobs are content-addressed); its records give their sizes. OCI: one image manifest read per entry (a
/// registry's tag list has no sizes or times). A store that cannot list (plain HTTP) is asked per entry (a HEAD each).
/// </summary>
internal static class EntrySizes
{
    /// <summary>Sizes of <paramref name="entries"/> by hash; an entry that cannot be read becomes a problem.</summary>
    public static async Task<(Dictionary<string, EntrySize> Sizes, List<EntryProblem> Problems)> ReadAsync(
        IBuildCacheLayout layout, IReadOnlyList<SpecEntry> entries, int parallelism,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var problems = new ConcurrentBag<EntryProblem>();
        var sizes = new ConcurrentDictionary<string, EntrySize>(StringComparer.Ordinal);
        if (layout is BuildCacheV2 && layout.Store is IStoreLister lister)
        {
            return (await ListV2Async(lister, entries, cancellationToken).ConfigureAwait(false), []);
        }

        var listed = layout is BuildCacheV3 && layout.Store is IStoreLister v3Lister
            ? await v3Lister.ListAsync(BuildCacheV3.SpecManifestPrefix, cancellationToken)
                .ToDictionaryAsync(o => o.Key, StringComparer.Ordinal, cancellationToken).ConfigureAwait(false)
            : null;
        var done = 0;
        await Parallel.ForEachAsync(entries,
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (entry, ct) =>
            {
                try
                {
                    var size = layout switch
                    {
                        BuildCacheOci oci => await ReadOciAsync(oci, entry, ct).ConfigureAwait(false),
                        BuildCacheV3 v3 => await ReadV3Async(v3, entry, listed, ct).ConfigureAwait(false),
                        _ => await HeadV2Async(layout, entry, ct).ConfigureAwait(false),
                    };
                    sizes[entry.Hash] = size;
                }
                catch (DepotException e) when (e.Kind.ConcernsOneEntry())
                {
                    problems.Add(new EntryProblem(layout.Store.Describe(entry.Key), "skipped entry: " + e.Message,
                        e.Kind, e.Hint));
                }

                progress?.Report(new OperationProgress("sizes", Interlocked.Increment(ref done), entries.Count));
            }).ConfigureAwait(false);
        return (new Dictionary<string, EntrySize>(sizes, StringComparer.Ordinal),
            problems.OrderBy(p => p.Location, StringComparer.Ordinal).ToList());
    }

    // Spec files lie flat in build_cache/, tarballs below it; both carry the hash in their names.
    private static async Task<Dictionary<string, EntrySize>> ListV2Async(IStoreLister lister,
        IReadOnlyList<SpecEntry> entries, CancellationToken cancellationToken)
    {
        var wanted = entries.ToDictionary(e => e.Hash, StringComparer.Ordinal);
        var objects = new Dictionary<string, List<StoreObject>>(StringComparer.Ordinal);
        await foreach (var obj in lister.ListAsync(BuildCacheV2.Prefix, cancellationToken).ConfigureAwait(false))
        {
            var name = obj.Key[(obj.Key.LastIndexOf('/') + 1)..];
            var entryObject = name.EndsWith(".spack", StringComparison.Ordinal)
                || name.EndsWith(BuildCacheV2.PlainSuffix, StringComparison.Ordinal)
                || name.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal);
            if (entryObject && PathNames.HashFromEntryName(name) is { } hash && wanted.ContainsKey(hash))
            {
                (objects.TryGetValue(hash, out var list) ? list : objects[hash] = []).Add(obj);
            }
        }

        var sizes = new Dictionary<string, EntrySize>(StringComparer.Ordinal);
        foreach (var (hash, list) in objects)
        {
            var tarball = list.FirstOrDefault(o => o.Key.EndsWith(".spack", StringComparison.Ordinal));
            var metadata = list.FirstOrDefault(o => o.Key == wanted[hash].Key);
            sizes[hash] = new EntrySize(tarball?.Length ?? 0, list.Select(o => new EntryObject(o.Key, o.Length))
                .ToList(), metadata?.LastModified);
        }

        return sizes;
    }

    private static async Task<EntrySize> HeadV2Async(IBuildCacheLayout layout, SpecEntry entry,
        CancellationToken cancellationToken)
    {
        var spec = await layout.ReadEntryAsync(entry, null, cancellationToken).ConfigureAwait(false);
        var metadata = await layout.Store.GetInfoAsync(entry.Key, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreObjectNotFoundException(layout.Store.Describe(entry.Key));
        var tarballKey = BuildCacheV2.TarballKey(spec.Spec.Root);
        var tarball = await layout.Store.GetInfoAsync(tarballKey, cancellationToken).ConfigureAwait(false);
        List<EntryObject> objects = [new(metadata.Key, metadata.Length)];
        if (tarball is not null)
        {
            objects.Add(new EntryObject(tarball.Key, tarball.Length));
        }

        return new EntrySize(tarball?.Length ?? 0, objects, metadata.LastModified);
    }

    private static async Task<EntrySize> ReadV3Async(BuildCacheV3 layout, SpecEntry entry,
        Dictionary<string, StoreObject>? listed, CancellationToken cancellationToken)
    {
        var info = listed is not null ? listed.GetValueOrDefault(entry.Key)
            : await layout.Store.GetInfoAsync(entry.Key, cancellationToken).ConfigureAwait(false);
        var bytes = await layout.Store.ReadAllBytesAsync(entry.Key, 16 << 20, cancellationToken).ConfigureAwait(false);
        var manifest = BuildCacheManifest.Parse(bytes, layout.Store.Describe(entry.Key));
        List<EntryObject> objects = [new(entry.Key, bytes.LongLength)];
        objects.AddRange(manifest.Records.Select(r => new EntryObject(r.BlobKey, r.ContentLength)));
        return new EntrySize(manifest.Find(MediaTypes.Tarball)?.ContentLength ?? 0, objects, info?.LastModified);
    }

    // An image's own objects: its manifest, its config (the spec) and its last layer (its tarball); the layers
    // before it are its dependencies' tarballs, counted with them.
    private static async Task<EntrySize> ReadOciAsync(BuildCacheOci layout, SpecEntry entry,
        CancellationToken cancellationToken)
    {
        var location = layout.Store.Describe(entry.Key);
        var found = await layout.Oci.Registry.GetManifestAsync(entry.Key, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreObjectNotFoundException(location);
        var manifest = OciImageManifest.Parse(found.Bytes, location);
        var tarball = manifest.Layers.Count > 0 ? manifest.Layers[^1] : null;
        List<EntryObject> objects =
        [
            new(found.Digest, found.Bytes.LongLength),
            new(manifest.Config.Digest, manifest.Config.Size),
        ];
        if (tarball is not null)
        {
            objects.Add(new EntryObject(tarball.Digest, tarball.Size));
        }

        return new EntrySize(tarball?.Size ?? 0, objects, null);
    }
}
