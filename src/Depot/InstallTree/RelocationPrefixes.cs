using Depot.Specs;

namespace Depot.InstallTree;

/// <summary>
/// The prefixes a package's files may mention, as Spack computes them when it pushes (<c>relocation.md</c> §2–3):
/// the package itself, its transitive link dependencies and its direct run dependencies, externals excluded; plus the
/// sbang script and the install root.
/// </summary>
public static class RelocationPrefixes
{
    private const string Placeholder = "__spack_path_placeholder__";

    /// <summary>
    /// Hash → recorded prefix for the specs to relocate (<see cref="SpecsToRelocate"/>) that have a prefix in the tree.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> HashToPrefix(InstallDatabase db, InstallRecord root,
        bool depthFirst) =>
        SpecsToRelocate(root.Spec, hash => db.Find(hash)?.Spec, depthFirst)
            .Select(spec => db.Find(spec.Hash))
            .Where(r => r?.Path is not null)
            .Select(r => new KeyValuePair<string, string>(r!.Spec.Hash, r.Path!))
            .ToList();

    /// <summary>
    /// The specs a package's files may refer to, as Spack orders them: the package and its transitive link
    /// dependencies breadth-first (Spack 1.x) or depth-first pre-order (Spack 0.21), edges in name order, then its
    /// direct run dependencies; externals left out, each spec once. <paramref name="find"/> resolves a hash (from an
    /// install database or a spec file); unknown hashes are skipped.
    /// </summary>
    public static IReadOnlyList<SpecNode> SpecsToRelocate(SpecNode root, Func<string, SpecNode?> find, bool depthFirst)
    {
        IEnumerable<SpecNode> Children(SpecNode node, DepTypes types) => node.Dependencies
            .Where(e => (e.Types & types) != 0)
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => find(e.Hash))
            .OfType<SpecNode>();

        var linked = new List<SpecNode>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        if (depthFirst)
        {
            var stack = new Stack<SpecNode>([root]);
            while (stack.Count > 0)
            {
                var node = stack.Pop();
                if (visited.Add(node.Hash))
                {
                    linked.Add(node);
                    foreach (var child in Children(node, DepTypes.Link).Reverse())
                    {
                        stack.Push(child);
                    }
                }
            }
        }
        else
        {
            var queue = new Queue<SpecNode>([root]);
            visited.Add(root.Hash);
            while (queue.Count > 0)
            {
                var node = queue.Dequeue();
                linked.Add(node);
                foreach (var child in Children(node, DepTypes.Link).Where(c => visited.Add(c.Hash)))
                {
                    queue.Enqueue(child);
                }
            }
        }

        return linked.Concat(Children(root, DepTypes.Run)).DistinctBy(n => n.Hash).Where(n => !n.IsExternal).ToList();
    }

    /// <summary>
    /// The install root without Spack's padding components (<c>__spack_path_placeholder__</c>, the last one possibly
    /// cut short): where <c>bin/sbang</c> lives.
    /// </summary>
    public static string UnpaddedRoot(string root)
    {
        var parts = root.TrimEnd('/').Split('/').ToList();
        var first = parts.FindIndex(p => p == Placeholder
            || (p.Length > 2 && p.StartsWith("__", StringComparison.Ordinal)
                && Placeholder.StartsWith(p, StringComparison.Ordinal)));
        return first <= 0 ? root.TrimEnd('/') : string.Join('/', parts.Take(first));
    }

    /// <summary>Spack's sbang location for an install root: <c>&lt;unpadded root&gt;/bin/sbang</c>.</summary>
    public static string SbangPath(string root) => UnpaddedRoot(root) + "/bin/sbang";

    /// <summary>
    /// The Spack checkout recorded as <c>spackprefix</c> (only Spack 0.21 uses it, for legacy sbang lines): the given
    /// one (a host passes <c>$SPACK_ROOT</c> when the user gives none), else the root's grandparent when the root is
    /// Spack's default <c>opt/spack</c>.
    /// </summary>
    public static string SpackPrefix(string root, string? given)
    {
        if (!string.IsNullOrEmpty(given))
        {
            return given.TrimEnd('/');
        }

        var unpadded = UnpaddedRoot(root);
        return unpadded.EndsWith("/opt/spack", StringComparison.Ordinal) ? unpadded[..^"/opt/spack".Length] : unpadded;
    }
}
