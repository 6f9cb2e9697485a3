using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Catalog;

/// <summary>
/// What the spec page shows of one entry, but the install commands (which depend on the URL asked for): its node from
/// the index (the same one <c>depot list --json</c> prints), its dependencies, dependents and whole DAG, its tarball's
/// sizes, when it was pushed and its signature. The entry itself is read once: its signed document, its spec and its
/// tarball record; then two small ranged reads of the tarball (its first two and last four bytes: gzip's magic and
/// its ISIZE trailer, the uncompressed size modulo 4 GiB).
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
        SignatureInfo signature;
        EntryContent? content = null;
        try
        {
            var document = await store.ReadAllBytesAsync(entry.Key, 64 << 20, cancellationToken)
                .ConfigureAwait(false);
            signature = trust.Classify(document, store.Describe(entry.Key));
            content = await layout.ReadEntryAsync(entry, TrustPolicy.None(state.Mirror.Name), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (DepotException e) when (e.Kind.ConcernsOneEntry())
        {
            // A missing or damaged entry: listed by the index, but nothing Spack could install.
            signature = new SignatureInfo(SignatureState.Invalid, null, null, null);
        }

        var node = cached.Spec;
        SpecNode? Resolve(string h) => cached.Resolve(h) ?? content?.Spec.FindByHash(h);
        var (compressed, uncompressed) = content?.Tarball is { } tarball
            ? await SizesAsync(store, tarball, cancellationToken).ConfigureAwait(false)
            : (null, null);
        var pushedAt = (await store.GetInfoAsync(entry.Key, cancellationToken).ConfigureAwait(false))?.LastModified;
        var dependencies = node.Dependencies.Select(d => Link(state.Rows, d.Name, d.Hash, d.Types, Resolve))
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
        return new SpecFacts(row, cached, variants, dependencies, dependents, DrawGraph(state.Rows, node, Resolve),
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

    private static async Task<(long?, long?)> SizesAsync(IStoreReader store, TarballRef tarball,
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
            var magic = await ReadRangeAsync(store, tarball.Key, 0, 2, cancellationToken).ConfigureAwait(false);
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
