using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Catalog;

/// <summary>
/// What the spec page shows of one entry, but the install commands (which depend on the URL asked for): its node from
/// the index (the same one <c>depot list --json</c> prints), its dependencies, dependents and whole DAG, its tarball's
/// sizes, when it was pushed and its signature. One read of the entry's signed document (v3 manifest, v2 spec file):
/// its signature, and (v3) its tarball record; the spec blob is not read, the index node stands for it (the catalog
/// shows, it does not verify: <c>depot verify</c> does). Then the tarball's length, and a ranged read of its last four
/// bytes (gzip's ISIZE trailer: the uncompressed size modulo 4 GiB; a v2 <c>.spack</c> is first checked to be gzip).
/// The push time comes from the store listing when there is one.
/// </summary>
internal sealed record SpecFacts(SpecRow Row, CachedSpec Node, IReadOnlyList<VariantValue> Variants,
    IReadOnlyList<DependencyLink> Dependencies, IReadOnlyList<DependencyLink> Dependents, DependencyGraph Graph,
    long? CompressedBytes, long? UncompressedBytes, SignatureInfo Signature, DateTimeOffset? PushedAt)
{
    public SpecDetail ToDetail(string cache, string mirrorUrl) =>
        new(Row, Variants, Dependencies, Dependents, Graph, CompressedBytes, UncompressedBytes, Signature, PushedAt,
            InstallText.For(cache, mirrorUrl, Row.Hash, Signature.State == SignatureState.Unsigned));

    public static async Task<SpecFacts?> ReadAsync(CatalogState state, string hash,
        CancellationToken cancellationToken)
    {
        var row = state.Rows.Find(hash);
        var nodes = await state.Nodes.GetAsync(cancellationToken).ConfigureAwait(false);
        if (row is null || !nodes.ByHash.TryGetValue(hash, out var cached)
            || state.Layouts.FirstOrDefault(l => l.Version == row.Layout) is not { } layout)
        {
            return null;
        }

        var store = state.Mirror.Store;
        var entry = await layout.EntryForAsync(cached.Spec, cancellationToken).ConfigureAwait(false);
        var trust = await state.Trust.GetAsync(cancellationToken).ConfigureAwait(false);
        var listing = await state.Listing.GetAsync(cancellationToken).ConfigureAwait(false);
        SignatureInfo signature;
        Tarball? tarball = null;
        try
        {
            var location = store.Describe(entry.Key);
            var document = await store.ReadAllBytesAsync(entry.Key, 64 << 20, cancellationToken)
                .ConfigureAwait(false);
            signature = trust.Classify(document, location);
            tarball = TarballOf(layout, cached.Spec, document, location);
        }
        catch (DepotException e) when (e.Kind.ConcernsOneEntry())
        {
            // A missing or damaged entry: listed by the index, but nothing Spack could install.
            signature = new SignatureInfo(SignatureState.Invalid, null, null, null);
        }

        var node = cached.Spec;
        var resolve = cached.Resolve;
        var sizes = tarball is null ? Task.FromResult<(long?, long?)>((null, null))
            : SizesAsync(store, tarball, cancellationToken);
        var pushedAt = listing.EntryTimes.TryGetValue(hash, out var listed) ? listed
            : (await store.GetInfoAsync(entry.Key, cancellationToken).ConfigureAwait(false))?.LastModified;
        var (compressed, uncompressed) = await sizes.ConfigureAwait(false);
        var dependencies = node.Dependencies.Select(d => Link(state.Rows, d.Name, d.Hash, d.Types, resolve))
            .ToList();
        var dependents = nodes.Dependents.GetValueOrDefault(hash)?
            .Select(d => state.Rows.Find(d.Hash) is { } r
                ? new DependencyLink(r.Name, r.Version, r.Hash, TypesText(d.Types), true)
                : null)
            .OfType<DependencyLink>()
            .OrderBy(d => d.Name, StringComparer.Ordinal).ThenBy(d => d.Hash, StringComparer.Ordinal)
            .ToList() ?? [];
        var variants = node.Variants.OrderBy(v => v.Name, StringComparer.Ordinal)
            .Select(v => new VariantValue(v.Name, v.Values, v.IsBoolean, v.IsMultiValued)).ToList();
        return new SpecFacts(row, cached, variants, dependencies, dependents, DrawGraph(state.Rows, node, resolve),
            compressed, uncompressed, signature, pushedAt);
    }

    /// <summary>Dependency types as the catalog's models write them: <c>build,link</c>.</summary>
    public static string TypesText(DepTypes types) =>
        types.ToString().ToLowerInvariant().Replace(" ", "", StringComparison.Ordinal);

    private static DependencyLink Link(CatalogRows rows, string name, string hash, DepTypes types,
        Func<string, SpecNode?> resolve) =>
        new(name, resolve(hash)?.Version ?? rows.Find(hash)?.Version ?? "", hash, TypesText(types),
            rows.Find(hash) is not null);

    // Breadth first from the spec, each node once; edges parent → child.
    private static DependencyGraph DrawGraph(CatalogRows rows, SpecNode root, Func<string, SpecNode?> resolve)
    {
        var nodes = new List<DependencyLink> { new(root.Name, root.Version, root.Hash, "", true) };
        var edges = new List<(string From, string To)>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { root.Hash };
        var queue = new Queue<SpecNode>([root]);
        while (queue.TryDequeue(out var node))
        {
            foreach (var edge in node.Dependencies)
            {
                edges.Add((node.Hash, edge.Hash));
                if (!seen.Add(edge.Hash))
                {
                    continue;
                }

                nodes.Add(Link(rows, edge.Name, edge.Hash, edge.Types, resolve));
                if (resolve(edge.Hash) is { } child)
                {
                    queue.Enqueue(child);
                }
            }
        }

        return new DependencyGraph(nodes, edges);
    }

    /// <summary>Where an entry's tarball is, and whether it is known to be gzip'd (else its first bytes say).
    /// </summary>
    private sealed record Tarball(string Key, bool Gzip);

    // v3: the manifest's tarball record (the document already read); v2: where the layout files it by the node.
    private static Tarball? TarballOf(IBuildCacheLayout layout, SpecNode node, byte[] document, string location) =>
        layout switch
        {
            BuildCacheV3 => BuildCacheManifest.Parse(document, location).Find(MediaTypes.Tarball) is { } record
                ? new Tarball(record.BlobKey, record.Compression == "gzip")
                : null,
            BuildCacheV2 => new Tarball(BuildCacheV2.TarballKey(node), false),
            _ => null,
        };

    private static async Task<(long?, long?)> SizesAsync(IStoreReader store, Tarball tarball,
        CancellationToken cancellationToken)
    {
        var info = await store.GetInfoAsync(tarball.Key, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            return (null, null);
        }

        if (info.Length < 18)
        {
            return (info.Length, null);
        }

        try
        {
            var magic = tarball.Gzip ? [0x1f, 0x8b]
                : await ReadRangeAsync(store, tarball.Key, 0, 2, cancellationToken).ConfigureAwait(false);
            if (magic is not [0x1f, 0x8b])
            {
                return (info.Length, null);
            }

            var trailer = await ReadRangeAsync(store, tarball.Key, info.Length - 4, 4, cancellationToken)
                .ConfigureAwait(false);
            return (info.Length, trailer.Length == 4
                ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer) : null);
        }
        catch (DepotException e) when (e.Kind.ConcernsOneEntry())
        {
            return (info.Length, null); // changed or gone meanwhile: the size is all we know
        }
    }

    private static async Task<byte[]> ReadRangeAsync(IStoreReader store, string key, long offset, int length,
        CancellationToken cancellationToken)
    {
        var stream = await store.OpenReadRangeAsync(key, offset, length, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[length];
            var read = await stream.ReadAtLeastAsync(buffer, length, throwOnEndOfStream: false, cancellationToken)
                .ConfigureAwait(false);
            return buffer[..read];
        }
    }
}
