using Depot.Specs;

namespace Depot.Operations;

/// <summary>
/// A spec a mirror holds, with where it came from. Found through an index, <see cref="Spec"/> is the index's word
/// (unsigned) until <see cref="VerifiedEntries"/> has read the entry; the installer is handed the verified node.
/// </summary>
public sealed record CatalogSpec(SpecNode Spec, Mirror Source, int LayoutVersion);

/// <summary>
/// What the install sources cache, read from their indexes (or a scan where a mirror has none, or its index is
/// refused): cached specs by hash, the first mirror that holds a spec winning. Only a finding aid: it says which hashes
/// exist and where, and answers queries; nothing it says about a spec decides a path, a record or a relocation.
/// </summary>
internal sealed class MirrorCatalog
{
    private readonly Dictionary<string, CatalogSpec> cached = new(StringComparer.Ordinal);
    private readonly List<string> names = [];
    private readonly List<EntryProblem> problems = [];
    private readonly List<string> indexed = [];

    /// <summary>What the mirrors could not tell: unreadable indexes (their entries were read instead), entries
    /// skipped.</summary>
    public IReadOnlyList<EntryProblem> Problems => problems;

    public static async Task<MirrorCatalog> ReadAsync(IReadOnlyList<Mirror> sources,
        CancellationToken cancellationToken)
    {
        var catalog = new MirrorCatalog();
        foreach (var source in sources)
        {
            var listed = await ListOperation.RunAsync(source, new ListOptions([], NeedNodes: true), null,
                cancellationToken).ConfigureAwait(false);
            catalog.names.Add(source.Name);
            catalog.problems.AddRange(listed.Problems);
            if (listed.FromIndex.Values.Any(fromIndex => fromIndex))
            {
                catalog.indexed.Add(source.Name);
            }
            foreach (var spec in listed.Specs)
            {
                catalog.cached.TryAdd(spec.Spec.Hash, new CatalogSpec(spec.Spec, source, spec.LayoutVersion));
            }
        }

        return catalog;
    }

    /// <summary>Where the spec with this hash is cached (the first mirror that has it), or null.</summary>
    public CatalogSpec? Find(string hash) => cached.GetValueOrDefault(hash);

    /// <summary>
    /// The advice when a spec a verified entry needs is in no mirror: where a mirror was read through its index, the
    /// index may be out of date (entries added without it); else none.
    /// </summary>
    public ErrorHint? MissingHint => indexed.Count > 0 ? ErrorHint.RebuildIndex(indexed[0]) : null;

    /// <summary>The one cached spec a query names.</summary>
    /// <exception cref="DepotException">Nothing matches, or several specs do (they are listed).</exception>
    public CatalogSpec Resolve(SpecQuery query)
    {
        var matches = cached.Values.Where(c => !c.Spec.IsExternal && query.Matches(c.Spec)).ToList();
        if (matches.Count == 0)
        {
            // An entry that could not be read may be the one asked for: name it rather than only say "nothing".
            const string Skipped = "skipped entry: ";
            var unread = problems.Where(p => p.Message.StartsWith(Skipped, StringComparison.Ordinal)).ToList();
            throw new DepotException(ErrorKind.NotFound,
                $"'{query.Text}' matches nothing cached in {string.Join(", ", names)}" + (unread.Count == 0 ? ""
                    : $", but {(unread.Count == 1 ? "1 entry" : $"{unread.Count} entries")} could not be read and "
                        + $"may hold it: {unread[0].Message[Skipped.Length..]}"));
        }

        if (matches.Count > 1)
        {
            var candidates = string.Join(", ",
                matches.OrderBy(m => m.Spec.Name, StringComparer.Ordinal)
                    .Select(m => $"{SpecFormatter.Short(m.Spec)} /{m.Spec.Hash[..7]}"));
            throw new DepotException(ErrorKind.Usage,
                $"'{query.Text}' matches {matches.Count} specs ({candidates}): add /hash to pick one");
        }

        return matches[0];
    }
}
