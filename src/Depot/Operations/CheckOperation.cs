using Depot.InstallTree;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>Options of <see cref="CheckOperation"/>.</summary>
/// <param name="Queries">Specs to check (name, name@version, /hash): resolved in the lock file when there is one (none:
/// its roots), else in the install tree.</param>
/// <param name="LockFile">A Spack <c>spack.lock</c>, or null.</param>
/// <param name="InstallTree">The Spack install tree that resolves <paramref name="Queries"/> without a lock file
/// (already located by the host: <see cref="InstallTreeLocator"/>), or null.</param>
/// <param name="Rescan">Read the mirror's entries instead of its index.</param>
/// <param name="Cache">Local summaries of indexes (null: the index is always read).</param>
public sealed record CheckOptions(IReadOnlyList<SpecQuery> Queries, string? LockFile = null,
    string? InstallTree = null, bool Rescan = false, IndexCache? Cache = null);

/// <summary>A spec the mirror lacks, and the requested specs whose link/run closure holds it.</summary>
/// <param name="Name">Package name.</param>
/// <param name="Version">Its version.</param>
/// <param name="Hash">Its DAG hash.</param>
/// <param name="NeededBy">The requested specs, as <c>name@version /hash7</c>, sorted.</param>
public sealed record MissingSpec(string Name, string Version, string Hash, IReadOnlyList<string> NeededBy);

/// <summary>What <see cref="CheckOperation"/> found.</summary>
/// <param name="Missing">Specs the mirror lacks, by name, version and hash.</param>
/// <param name="Present">Specs of the closures the mirror holds.</param>
/// <param name="Checked">Specs in the closures (externals, which a cache never holds, not counted).</param>
/// <param name="Source">Where the specs came from: the lock file or the install tree.</param>
/// <param name="Problems">What the mirror could not tell (an unreadable index, skipped entries).</param>
public sealed record CheckResult(IReadOnlyList<MissingSpec> Missing, int Present, int Checked, string Source,
    IReadOnlyList<EntryProblem> Problems);

/// <summary>
/// <c>depot check</c>, the question a CI pipeline asks before deciding what to rebuild (Spack's
/// <c>buildcache check</c>): which of these specs, each with its link/run closure (build-only dependencies do not
/// count; externals are never cached and are skipped), the mirror lacks. The mirror is read through its index, as
/// <c>depot list</c> does (or its entries with <see cref="CheckOptions.Rescan"/>).
/// </summary>
public static class CheckOperation
{
    private const DepTypes Closure = DepTypes.Link | DepTypes.Run;

    /// <summary>Checks <paramref name="mirror"/> for the specs <paramref name="options"/> name.</summary>
    /// <exception cref="DepotException">The lock file or install tree is unreadable, a query matches nothing or
    /// several specs, or neither a lock file nor queries were given.</exception>
    public static async Task<CheckResult> RunAsync(Mirror mirror, CheckOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentNullException.ThrowIfNull(options);
        var (roots, find, source) = await ResolveAsync(options, cancellationToken).ConfigureAwait(false);
        var listed = await ListOperation.RunAsync(mirror,
            new ListOptions([], options.Rescan, Cache: options.Rescan ? null : options.Cache), progress,
            cancellationToken).ConfigureAwait(false);
        var held = listed.Rows.Select(r => r.Hash).ToHashSet(StringComparer.Ordinal);

        var neededBy = new Dictionary<string, (SpecNode Node, List<string> Roots)>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            var label = $"{SpecFormatter.Short(root)} /{root.Hash[..7]}";
            foreach (var node in ClosureOf(root, find))
            {
                if (!neededBy.TryGetValue(node.Hash, out var entry))
                {
                    neededBy[node.Hash] = entry = (node, []);
                }

                if (!entry.Roots.Contains(label))
                {
                    entry.Roots.Add(label);
                }
            }
        }

        var missing = neededBy.Values.Where(e => !held.Contains(e.Node.Hash))
            .OrderBy(e => e.Node.Name, StringComparer.Ordinal).ThenBy(e => e.Node.Version, StringComparer.Ordinal)
            .ThenBy(e => e.Node.Hash, StringComparer.Ordinal)
            .Select(e => new MissingSpec(e.Node.Name, e.Node.Version, e.Node.Hash,
                e.Roots.Order(StringComparer.Ordinal).ToList())).ToList();
        return new CheckResult(missing, neededBy.Count - missing.Count, neededBy.Count, source, listed.Problems);
    }

    private static async Task<(List<SpecNode> Roots, Func<string, SpecNode?> Find, string Source)> ResolveAsync(
        CheckOptions options, CancellationToken cancellationToken)
    {
        if (options.LockFile is { } path)
        {
            var lockFile = await SpackLockFile.ReadAsync(path, cancellationToken).ConfigureAwait(false);
            var roots = options.Queries.Count == 0
                ? lockFile.Roots.Select(r => lockFile.Find(r.Hash)!).DistinctBy(n => n.Hash).ToList()
                : options.Queries.Select(q => One(q, lockFile.Specs, "in " + path)).ToList();
            return (roots, lockFile.Find, path);
        }

        if (options.Queries.Count == 0)
        {
            throw new DepotException(ErrorKind.Usage, "name the specs to check, or a lock file");
        }

        var treeRoot = options.InstallTree
            ?? throw new DepotException(ErrorKind.Usage, "no lock file and no Spack install tree to resolve specs in",
                new ErrorHint(HintAction.ChooseInstallTree));
        var db = await InstallDatabase.ReadAsync(treeRoot, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        var installed = db.Records.Where(r => r.Installed).Select(r => r.Spec).ToList();
        return (options.Queries.Select(q => One(q, installed, "installed in " + db.Root)).ToList(),
            h => db.Find(h)?.Spec, db.Root);
    }

    // As depot push resolves its arguments: one match, else the candidates are named.
    private static SpecNode One(SpecQuery query, IEnumerable<SpecNode> candidates, string where)
    {
        var matches = candidates.Where(query.Matches).ToList();
        if (matches.Count == 0)
        {
            throw new DepotException(ErrorKind.NotFound, $"'{query.Text}' matches no spec {where}");
        }

        if (matches.Count > 1)
        {
            var names = string.Join(", ", matches.OrderBy(m => m.Name, StringComparer.Ordinal)
                .Select(m => $"{SpecFormatter.Short(m)}/{m.Hash[..7]}"));
            throw new DepotException(ErrorKind.Usage,
                $"'{query.Text}' matches {matches.Count} specs {where} ({names}): add /hash to pick one");
        }

        return matches[0];
    }

    /// <summary>The root and every spec it reaches through link and run edges, externals left out (and not
    /// followed: an external's dependencies are not Spack's to provide). Iterative: deep DAGs cannot overflow the
    /// stack.</summary>
    internal static List<SpecNode> ClosureOf(SpecNode root, Func<string, SpecNode?> find)
    {
        var result = new List<SpecNode>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { root.Hash };
        var stack = new Stack<SpecNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (node.IsExternal)
            {
                continue;
            }

            result.Add(node);
            foreach (var edge in node.Dependencies)
            {
                if ((edge.Types & Closure) != 0 && seen.Add(edge.Hash) && find(edge.Hash) is { } dependency)
                {
                    stack.Push(dependency);
                }
            }
        }

        return result;
    }
}
