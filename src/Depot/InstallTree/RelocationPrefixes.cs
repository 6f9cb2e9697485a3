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
    /// Hash → recorded prefix for the specs to relocate: breadth-first over link edges then direct run dependencies
    /// (Spack 1.x), or depth-first pre-order (Spack 0.21); edges in name order; each spec once.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> HashToPrefix(InstallDatabase db, InstallRecord root, bool depthFirst)
    {
        var result = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(InstallRecord r)
        {
            if (seen.Add(r.Spec.Hash) && !r.Spec.IsExternal && r.Path is not null)
            {
                result.Add(new(r.Spec.Hash, r.Path));
            }
        }

        IEnumerable<InstallRecord> Children(InstallRecord r, DepTypes types) => r.Spec.Dependencies
            .Where(e => (e.Types & types) != 0)
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => db.Find(e.Hash))
            .OfType<InstallRecord>();

        var linked = new List<InstallRecord>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        if (depthFirst)
        {
            var stack = new Stack<InstallRecord>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                var r = stack.Pop();
                if (!visited.Add(r.Spec.Hash))
                {
                    continue;
                }

                linked.Add(r);
                foreach (var child in Children(r, DepTypes.Link).Reverse())
                {
                    stack.Push(child);
                }
            }
        }
        else
        {
            var queue = new Queue<InstallRecord>();
            queue.Enqueue(root);
            visited.Add(root.Spec.Hash);
            while (queue.Count > 0)
            {
                var r = queue.Dequeue();
                linked.Add(r);
                foreach (var child in Children(r, DepTypes.Link).Where(c => visited.Add(c.Spec.Hash)))
                {
                    queue.Enqueue(child);
                }
            }
        }

        foreach (var r in linked.Concat(Children(root, DepTypes.Run)))
        {
            Add(r);
        }

        return result;
    }

    /// <summary>
    /// The install root without Spack's padding components (<c>__spack_path_placeholder__</c>, the last one possibly
    /// cut short): where <c>bin/sbang</c> lives.
    /// </summary>
    public static string UnpaddedRoot(string root)
    {
        var parts = root.TrimEnd('/').Split('/').ToList();
        var first = parts.FindIndex(p => p == Placeholder || (p.Length > 2 && p.StartsWith("__", StringComparison.Ordinal) && Placeholder.StartsWith(p, StringComparison.Ordinal)));
        return first <= 0 ? root.TrimEnd('/') : string.Join('/', parts.Take(first));
    }

    /// <summary>Spack's sbang location for an install root: <c>&lt;unpadded root&gt;/bin/sbang</c>.</summary>
    public static string SbangPath(string root) => UnpaddedRoot(root) + "/bin/sbang";

    /// <summary>
    /// The Spack checkout recorded as <c>spackprefix</c> (only Spack 0.21 uses it, for legacy sbang lines): the given
    /// one, else <c>$SPACK_ROOT</c>, else the root's grandparent when the root is Spack's default <c>opt/spack</c>.
    /// </summary>
    public static string SpackPrefix(string root, string? given)
    {
        if (!string.IsNullOrEmpty(given))
        {
            return given.TrimEnd('/');
        }

        var fromEnvironment = Environment.GetEnvironmentVariable("SPACK_ROOT");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment.TrimEnd('/');
        }

        var unpadded = UnpaddedRoot(root);
        return unpadded.EndsWith("/opt/spack", StringComparison.Ordinal) ? unpadded[..^"/opt/spack".Length] : unpadded;
    }
}
