using Depot.Specs;

namespace Depot.Operations;

/// <summary>A spec a mirror holds, with where it came from.</summary>
public sealed record CatalogSpec(SpecNode Spec, InstallSource Source, int LayoutVersion);

/// <summary>
/// What the install sources hold, read from their indexes (or a scan where a mirror has none): cached specs by hash
/// (the first mirror that holds a spec wins) and every node the indexes record, externals included.
/// </summary>
internal sealed class MirrorCatalog
{
    private readonly Dictionary<string, CatalogSpec> cached = new(StringComparer.Ordinal);
    private readonly List<Func<string, SpecNode?>> resolvers = [];
    private readonly List<string> names = [];

    public static async Task<MirrorCatalog> ReadAsync(IReadOnlyList<InstallSource> sources, CancellationToken cancellationToken)
    {
        var catalog = new MirrorCatalog();
        foreach (var source in sources)
        {
            var listed = await ListOperation.RunAsync(source.Store, new ListOptions([], NeedNodes: true), null, cancellationToken).ConfigureAwait(false);
            catalog.names.Add(source.Name);
            foreach (var spec in listed.Specs)
            {
                catalog.cached.TryAdd(spec.Spec.Hash, new CatalogSpec(spec.Spec, source, spec.LayoutVersion));
                if (catalog.resolvers.Count < catalog.names.Count)
                {
                    catalog.resolvers.Add(spec.Resolve);
                }
            }
        }

        return catalog;
    }

    public CatalogSpec? Find(string hash) => cached.GetValueOrDefault(hash);

    /// <summary>Any node the mirrors know by hash: a cached spec, or a record of an index (an external, say).</summary>
    public SpecNode? Node(string hash) =>
        cached.TryGetValue(hash, out var spec) ? spec.Spec : resolvers.Select(r => r(hash)).FirstOrDefault(n => n is not null);

    /// <summary>The one cached spec a query names.</summary>
    /// <exception cref="DepotException">Nothing matches, or several specs do (they are listed).</exception>
    public CatalogSpec Resolve(SpecQuery query)
    {
        var matches = cached.Values.Where(c => !c.Spec.IsExternal && query.Matches(c.Spec)).ToList();
        if (matches.Count == 0)
        {
            throw new DepotException($"'{query.Text}' matches nothing cached in {string.Join(", ", names)}");
        }

        if (matches.Count > 1)
        {
            var candidates = string.Join(", ", matches.OrderBy(m => m.Spec.Name, StringComparer.Ordinal).Select(m => $"{SpecFormatter.Short(m.Spec)} /{m.Spec.Hash[..7]}"));
            throw new DepotException($"'{query.Text}' matches {matches.Count} specs ({candidates}): add /hash to pick one");
        }

        return matches[0];
    }
}
