using Depot.Specs;

namespace Depot.InstallTree;

/// <summary>Which parts of each selected DAG to push, as Spack's <c>--only</c>.</summary>
[Flags]
public enum PushParts
{
    Package = 1,
    Dependencies = 2,
    Both = Package | Dependencies,
}

/// <summary>What to push, dependencies first, and what was left out and why.</summary>
public sealed record PushPlan(IReadOnlyList<InstallRecord> ToPush, IReadOnlyList<InstallRecord> SkippedExternal,
    IReadOnlyList<InstallRecord> SkippedNotInstalled);

/// <summary>
/// Selects installed specs to push like <c>spack buildcache push</c>: named specs (name, <c>name@version</c>,
/// <c>/hash</c>) or every installed non-external spec, with their link and run dependencies (build dependencies on
/// request). Externals are never pushed; they are reported.
/// </summary>
public static class PushSelection
{
    /// <exception cref="DepotException">A query matches nothing, or several specs when one was meant.</exception>
    public static PushPlan Select(InstallDatabase db, IReadOnlyList<SpecQuery> queries, bool all,
        PushParts parts = PushParts.Both, bool withBuildDependencies = false)
    {
        var roots = new List<InstallRecord>();
        if (all)
        {
            roots.AddRange(db.Records.Where(r => r.Installed && !r.Spec.IsExternal)
                .OrderBy(r => r.Spec.Name, StringComparer.Ordinal)
                .ThenBy(r => r.Spec.Hash, StringComparer.Ordinal));
        }

        foreach (var query in queries)
        {
            var matches = db.Records.Where(r => r.Installed && query.Matches(r.Spec)).ToList();
            if (matches.Count == 0)
            {
                throw new DepotException(ErrorKind.NotFound, $"'{query.Text}' matches no installed spec in {db.Root}");
            }

            if (matches.Count > 1 && query.HashPrefix is null)
            {
                var candidates = string.Join(", ",
                    matches.Select(m => $"{SpecFormatter.Short(m.Spec)}/{m.Spec.Hash[..7]}"));
                throw new DepotException(ErrorKind.Usage,
                    $"'{query.Text}' matches {matches.Count} installed specs ({candidates}): add /hash to pick one");
            }

            if (matches.Count > 1)
            {
                throw new DepotException(ErrorKind.Usage, $"'{query.Text}' is an ambiguous hash prefix: "
                    + $"{string.Join(", ", matches.Select(m => m.Spec.Hash))}");
            }

            roots.Add(matches[0]);
        }

        var types = DepTypes.Link | DepTypes.Run | (withBuildDependencies ? DepTypes.Build : DepTypes.None);
        var order = new List<InstallRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rootHashes = roots.Select(r => r.Spec.Hash).ToHashSet(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            Visit(root, db, types, seen, order);
        }

        bool Wanted(InstallRecord r) => rootHashes.Contains(r.Spec.Hash)
            ? parts.HasFlag(PushParts.Package)
            : parts.HasFlag(PushParts.Dependencies);

        var selected = order.Where(Wanted).ToList();
        var externals = selected.Where(r => r.Spec.IsExternal);
        if (all)
        {
            // "Everything installed" covers every external of the tree too: say that each one was left out.
            externals = externals.Concat(db.Records.Where(r => r.Spec.IsExternal)).DistinctBy(r => r.Spec.Hash);
        }

        return new PushPlan(
            selected.Where(r => !r.Spec.IsExternal && r.Installed).ToList(),
            externals.ToList(),
            selected.Where(r => !r.Spec.IsExternal && !r.Installed).ToList());
    }

    // Post-order: dependencies before dependents, each spec once; iterative so deep DAGs cannot overflow the stack.
    private static void Visit(InstallRecord root, InstallDatabase db, DepTypes types, HashSet<string> seen,
        List<InstallRecord> order)
    {
        if (!seen.Add(root.Spec.Hash))
        {
            return;
        }

        var stack = new Stack<(InstallRecord Record, int Next)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (record, next) = stack.Pop();
            var edges = record.Spec.IsExternal ? [] : record.Spec.Dependencies;
            if (next < edges.Count)
            {
                stack.Push((record, next + 1));
                var edge = edges[next];
                if ((edge.Types & types) != 0 && db.Find(edge.Hash) is { } dep && seen.Add(dep.Spec.Hash))
                {
                    stack.Push((dep, 0));
                }

                continue;
            }

            order.Add(record);
        }
    }
}
