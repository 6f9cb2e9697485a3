using Depot.Layout;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>A spec available from a build cache, with a way to resolve its dependencies for display.</summary>
public sealed record CachedSpec(SpecNode Spec, int LayoutVersion, Func<string, SpecNode?> Resolve);

/// <summary>What <see cref="ListOperation"/> found.</summary>
/// <param name="Specs">Cached specs matching the queries, sorted by name, version and hash.</param>
/// <param name="FromIndex">Per layout version: true when its index was used, false when its entries were scanned.</param>
/// <param name="Problems">Entries that could not be read during a scan.</param>
public sealed record ListResult(IReadOnlyList<CachedSpec> Specs, IReadOnlyDictionary<int, bool> FromIndex, IReadOnlyList<EntryProblem> Problems);

/// <summary>Options of <see cref="ListOperation"/>.</summary>
/// <param name="Queries">Spec queries; a spec is listed when it matches any (all specs when empty).</param>
/// <param name="Rescan">Read every entry instead of the index.</param>
/// <param name="Parallelism">How many entries to read at once when scanning.</param>
public sealed record ListOptions(IReadOnlyList<SpecQuery> Queries, bool Rescan = false, int Parallelism = 16);

/// <summary>
/// Lists the specs a build cache holds (index records marked <c>in_buildcache</c>; externals recorded in the index
/// cannot be installed from the cache and are not listed). Uses the index when there is one, else scans entries.
/// </summary>
public static class ListOperation
{
    public static async Task<ListResult> RunAsync(IObjectStore store, ListOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var layouts = await BuildCache.DetectAsync(store, cancellationToken).ConfigureAwait(false);
        var found = new Dictionary<string, CachedSpec>(StringComparer.Ordinal);
        var fromIndex = new Dictionary<int, bool>();
        var problems = new List<EntryProblem>();
        foreach (var layout in layouts)
        {
            BuildCacheIndex? index = null;
            if (!options.Rescan)
            {
                try
                {
                    index = await layout.ReadIndexAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (InvalidContentException e)
                {
                    // A broken index must not hide the cache: say so and read the entries instead.
                    problems.Add(new EntryProblem(e.Location, e.Message + " (index unreadable: scanned the entries instead)"));
                }
            }

            fromIndex[layout.Version] = index is not null;
            if (index is not null)
            {
                foreach (var spec in index.CachedSpecs)
                {
                    found.TryAdd(spec.Hash, new CachedSpec(spec, layout.Version, h => index.Find(h)?.Spec));
                }

                continue;
            }

            var entries = new List<SpecEntry>();
            await foreach (var entry in layout.ListSpecEntriesAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!found.ContainsKey(entry.Hash))
                {
                    entries.Add(entry);
                }
            }

            var (read, bad) = await EntryReader.ReadAllAsync(layout, entries, options.Parallelism, progress, "scan", cancellationToken)
                .ConfigureAwait(false);
            problems.AddRange(bad);
            foreach (var (_, spec) in read)
            {
                found.TryAdd(spec.Root.Hash, new CachedSpec(spec.Root, layout.Version, spec.FindByHash));
            }
        }

        var specs = found.Values
            .Where(c => options.Queries.Count == 0 || options.Queries.Any(q => q.Matches(c.Spec)))
            .OrderBy(c => c.Spec.Name, StringComparer.Ordinal)
            .ThenBy(c => c.Spec.Version, StringComparer.Ordinal)
            .ThenBy(c => c.Spec.Hash, StringComparer.Ordinal)
            .ToList();
        return new ListResult(specs, fromIndex, problems);
    }
}
