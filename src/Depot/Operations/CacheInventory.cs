using System.Collections.Concurrent;
using Depot.Layout;
using Depot.Layout.Oci;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// A spec entry as the inventory found it: its manifest (v3) or spec file (v2) as listed, the other objects it names
/// (v3: every blob of its manifest, some perhaps shared; v2: the other spec file variant and its tarball, its alone),
/// and those it names that are missing.
/// </summary>
internal sealed record InventoryEntry(SpecEntry Entry, StoreObject Listed, IReadOnlyList<string> Parts,
    IReadOnlyList<string> Missing);

/// <summary>A published key's objects that no key index lists any more: its manifest or file first, then its
/// blob.</summary>
internal sealed record UnlistedKey(string Fingerprint, StoreObject Listed, IReadOnlyList<string> Parts);

/// <summary>
/// What one layout of a writable store holds, taken from one listing (time <see cref="ListedAt"/>): its entries and
/// the objects each owns, which manifest references which blob, objects no entry owns, keys the key index no longer
/// lists, and the store's temporaries. v3 manifests are read in parallel (the only reads; the index does not say which
/// blobs a manifest names); v2 ownership follows from names alone (a tarball belongs to the spec file of its stem).
/// Objects it does not understand are not listed anywhere, so nothing acting on it can remove them.
/// </summary>
internal sealed class CacheInventory
{
    private const long ManifestLimit = 1 << 20;

    private CacheInventory(IBuildCacheLayout layout, IObjectStore store, DateTimeOffset listedAt)
    {
        Layout = layout;
        Store = store;
        ListedAt = listedAt;
    }

    public IBuildCacheLayout Layout { get; }

    public IObjectStore Store { get; }

    /// <summary>When the listing started: an object written after it is not in this inventory.</summary>
    public DateTimeOffset ListedAt { get; }

    /// <summary>Every object listed, by key.</summary>
    public Dictionary<string, StoreObject> Objects { get; } = new(StringComparer.Ordinal);

    public List<InventoryEntry> Entries { get; } = [];

    /// <summary>v3: for every blob some manifest names (spec, key, key index, index manifests), how many do.</summary>
    public Dictionary<string, int> References { get; } = new(StringComparer.Ordinal);

    /// <summary>Objects the layout keeps for entries that no entry owns (v3 blobs no manifest names, v2 tarballs
    /// without a spec file).</summary>
    public List<StoreObject> Unowned { get; } = [];

    public List<UnlistedKey> UnlistedKeys { get; } = [];

    public List<StoreObject> Temporaries { get; } = [];

    /// <summary>Manifests that could not be read: what they reference is unknown, so no blob is unowned.</summary>
    public List<EntryProblem> Problems { get; } = [];

    /// <summary>Takes the inventory of <paramref name="layout"/>.</summary>
    /// <exception cref="DepotException"><see cref="ErrorKind.Unsupported"/>: an OCI registry, or a store that cannot
    /// be listed.</exception>
    public static async Task<CacheInventory> TakeAsync(IBuildCacheLayout layout, int parallelism,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        if (layout is BuildCacheOci)
        {
            throw new DepotException(ErrorKind.Unsupported,
                $"{layout.Store.Root}: removing entries from an OCI registry is not supported (delete its tags with "
                + "the registry's own tools)");
        }

        var store = layout.Store.RequireWritable();
        var inventory = new CacheInventory(layout, store, DateTimeOffset.UtcNow);
        progress?.Report(new OperationProgress("list", 0, 1));
        var prefixes = layout.Version == 3 ? new[] { "blobs/", "v3/" } : [BuildCacheV2.Prefix];
        foreach (var prefix in prefixes)
        {
            await foreach (var obj in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                inventory.Objects[obj.Key] = obj;
            }
        }

        if (store is IStoreTemporaries temporaries)
        {
            await foreach (var obj in temporaries.ListTemporaryAsync(cancellationToken).ConfigureAwait(false))
            {
                inventory.Temporaries.Add(obj);
            }
        }

        progress?.Report(new OperationProgress("list", 1, 1));
        if (layout.Version == 3)
        {
            await inventory.ReadV3Async(parallelism, progress, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await inventory.ReadV2Async(cancellationToken).ConfigureAwait(false);
        }

        inventory.Entries.Sort((a, b) => string.CompareOrdinal(a.Entry.Key, b.Entry.Key));
        return inventory;
    }

    private async Task ReadV3Async(int parallelism, IProgress<OperationProgress>? progress,
        CancellationToken cancellationToken)
    {
        var manifests = Objects.Keys.Where(k => k.StartsWith("v3/manifests/", StringComparison.Ordinal)
            && k.EndsWith(".manifest.json", StringComparison.Ordinal)).ToList();
        var named = new ConcurrentDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var problems = new ConcurrentBag<EntryProblem>();
        var done = 0;
        await Parallel.ForEachAsync(manifests,
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (key, ct) =>
            {
                var location = Store.Describe(key);
                try
                {
                    var bytes = await Store.ReadAllBytesAsync(key, ManifestLimit, ct).ConfigureAwait(false);
                    named[key] = BuildCacheManifest.Parse(bytes, location).Records.Select(r => r.BlobKey).ToList();
                }
                catch (StoreObjectNotFoundException)
                {
                    // removed since the listing (another prune, an rm): it references nothing now
                }
                catch (DepotException e) when (e.Kind.ConcernsOneEntry())
                {
                    problems.Add(new EntryProblem(location, $"{location}: unreadable ({e.Message}); what it references "
                        + "is unknown, so no blob is pruned", e.Kind, e.Hint));
                }

                progress?.Report(new OperationProgress("read manifests", Interlocked.Increment(ref done),
                    manifests.Count));
            }).ConfigureAwait(false);
        Problems.AddRange(problems.OrderBy(p => p.Location, StringComparer.Ordinal));

        foreach (var blobs in named.Values)
        {
            foreach (var blob in blobs.Distinct(StringComparer.Ordinal))
            {
                References[blob] = References.GetValueOrDefault(blob) + 1;
            }
        }

        foreach (var (key, blobs) in named)
        {
            if (key.StartsWith(BuildCacheV3.SpecManifestPrefix, StringComparison.Ordinal)
                && key.EndsWith(BuildCacheV3.SpecManifestSuffix, StringComparison.Ordinal)
                && PathNames.HashFromEntryName(key[(key.LastIndexOf('/') + 1)..]) is { } hash)
            {
                var parts = blobs.Distinct(StringComparer.Ordinal).ToList();
                Entries.Add(new InventoryEntry(new SpecEntry(key, hash, Signed: false), Objects[key], parts,
                    parts.Where(b => !Objects.ContainsKey(b)).ToList()));
            }
        }

        if (Problems.Count == 0)
        {
            Unowned.AddRange(Objects.Values.Where(o => o.Key.StartsWith("blobs/", StringComparison.Ordinal)
                && !References.ContainsKey(o.Key)));
        }

        await FindUnlistedKeysV3Async(named, cancellationToken).ConfigureAwait(false);
    }

    // Key manifests the key index does not list (only when there is a key index to go by).
    private async Task FindUnlistedKeysV3Async(ConcurrentDictionary<string, IReadOnlyList<string>> named,
        CancellationToken cancellationToken)
    {
        if (!Objects.ContainsKey(BuildCacheV3.KeyIndexManifestKey))
        {
            return;
        }

        var published = (await Layout.ReadPublishedKeysAsync(cancellationToken).ConfigureAwait(false))
            .Select(k => k.Fingerprint).ToHashSet(StringComparer.Ordinal);
        foreach (var (key, obj) in Objects)
        {
            var name = key.StartsWith(BuildCacheV3.KeyManifestPrefix, StringComparison.Ordinal)
                ? key[BuildCacheV3.KeyManifestPrefix.Length..] : "";
            if (key != BuildCacheV3.KeyIndexManifestKey && !name.Contains('/', StringComparison.Ordinal)
                && name.EndsWith(BuildCacheV3.KeyManifestSuffix, StringComparison.Ordinal)
                && name[..^BuildCacheV3.KeyManifestSuffix.Length] is var fingerprint
                && !published.Contains(fingerprint))
            {
                UnlistedKeys.Add(new UnlistedKey(fingerprint, obj, named.GetValueOrDefault(key) ?? []));
            }
        }
    }

    private async Task ReadV2Async(CancellationToken cancellationToken)
    {
        // build_cache/<stem>.spec.json[.sig] flat; build_cache/<arch>/<compiler>/<name-version>/<stem>.spack below.
        var specFiles = new Dictionary<string, List<StoreObject>>(StringComparer.Ordinal);
        var tarballs = new Dictionary<string, StoreObject>(StringComparer.Ordinal);
        foreach (var obj in Objects.Values)
        {
            var name = obj.Key[BuildCacheV2.Prefix.Length..];
            if (!name.Contains('/', StringComparison.Ordinal) && StemOf(name) is { } stem)
            {
                (specFiles.TryGetValue(stem, out var files) ? files : specFiles[stem] = []).Add(obj);
            }
            else if (name.Count(c => c == '/') == 3 && name.EndsWith(".spack", StringComparison.Ordinal)
                && !name.StartsWith("_pgp/", StringComparison.Ordinal))
            {
                tarballs[name[(name.LastIndexOf('/') + 1)..^".spack".Length]] = obj;
            }
        }

        foreach (var (stem, files) in specFiles)
        {
            if (PathNames.HashFromEntryName(stem) is not { } hash)
            {
                continue;
            }

            // The signed file is the entry (as the layout lists it); the plain one goes with it.
            files.Sort((a, b) => b.Key.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal)
                .CompareTo(a.Key.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal)));
            var main = files[0];
            var parts = files.Skip(1).Select(f => f.Key).ToList();
            var missing = new List<string>();
            if (tarballs.TryGetValue(stem, out var tarball))
            {
                parts.Add(tarball.Key);
            }
            else
            {
                missing.Add(stem + ".spack");
            }

            var signed = main.Key.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal);
            Entries.Add(new InventoryEntry(new SpecEntry(main.Key, hash, signed), main, parts, missing));
        }

        Unowned.AddRange(tarballs.Where(t => !specFiles.ContainsKey(t.Key)).Select(t => t.Value));
        if (Objects.ContainsKey(BuildCacheV2.KeyIndexKey))
        {
            var published = (await Layout.ReadPublishedKeysAsync(cancellationToken).ConfigureAwait(false))
                .Select(k => k.Fingerprint).ToHashSet(StringComparer.Ordinal);
            foreach (var obj in Objects.Values)
            {
                var name = obj.Key.StartsWith(BuildCacheV2.KeysPrefix, StringComparison.Ordinal)
                    ? obj.Key[BuildCacheV2.KeysPrefix.Length..] : "";
                if (name.EndsWith(".pub", StringComparison.Ordinal) && !name.Contains('/', StringComparison.Ordinal)
                    && !published.Contains(name[..^".pub".Length]))
                {
                    UnlistedKeys.Add(new UnlistedKey(name[..^".pub".Length], obj, []));
                }
            }
        }
    }

    private static string? StemOf(string name) =>
        name.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal) ? name[..^BuildCacheV2.SignedSuffix.Length]
        : name.EndsWith(BuildCacheV2.PlainSuffix, StringComparison.Ordinal) ? name[..^BuildCacheV2.PlainSuffix.Length]
        : null;

    /// <summary>The size of <paramref name="key"/> as listed (0 when it was not).</summary>
    public long SizeOf(string key) => Objects.TryGetValue(key, out var obj) ? obj.Length : 0;

    /// <summary>True when <paramref name="obj"/> was last written before <paramref name="cutoff"/> (unknown times are
    /// never old).</summary>
    public static bool IsOlder(StoreObject obj, DateTimeOffset cutoff) =>
        obj.LastModified is { } time && time < cutoff;
}
