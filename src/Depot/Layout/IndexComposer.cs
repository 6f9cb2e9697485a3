using System.Buffers;
using System.Globalization;
using Depot.Specs;

namespace Depot.Layout;

/// <summary>
/// Writes index JSON for a set of pushed specs (roots) from the previous index and newly read nodes, as Spack's
/// database writes it: <c>{"database":{"version":"8","installs":{hash:{"spec":node,"ref_count":n,"in_buildcache":b}}}}</c>,
/// compact. Only nodes reachable from the roots are kept; <c>ref_count</c> counts indexed dependents. Records of the
/// previous index keep their place and their stored node bytes; new nodes follow, dependencies first.
/// </summary>
public static class IndexComposer
{
    public sealed record Composed(byte[] Json, int Records);

    public static Composed Compose(int databaseVersion, IReadOnlyList<string> roots, IndexSnapshot? previous,
        IReadOnlyDictionary<string, SpecNode> fresh)
    {
        IEnumerable<string> DependenciesOf(string hash) =>
            fresh.TryGetValue(hash, out var node) ? SpecNode.DependencyHashes(node.Json).Select(d => d.Hash)
            : previous?.Find(hash)?.Dependencies ?? [];

        bool Exists(string hash) => fresh.ContainsKey(hash) || previous?.Find(hash) is not null;

        // Post-order from each root (dependencies first), iteratively: deep DAGs must not overflow the stack.
        var kept = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var root in roots)
        {
            if (kept.Contains(root) || !Exists(root))
            {
                continue;
            }

            var stack = new Stack<(string Hash, IEnumerator<string> Deps)>();
            var onPath = new HashSet<string>(StringComparer.Ordinal) { root };
            stack.Push((root, DependenciesOf(root).GetEnumerator()));
            while (stack.Count > 0)
            {
                var (hash, deps) = stack.Peek();
                if (deps.MoveNext())
                {
                    var dep = deps.Current;
                    if (!kept.Contains(dep) && !onPath.Contains(dep) && Exists(dep))
                    {
                        onPath.Add(dep);
                        stack.Push((dep, DependenciesOf(dep).GetEnumerator()));
                    }

                    continue;
                }

                stack.Pop();
                onPath.Remove(hash);
                if (kept.Add(hash))
                {
                    order.Add(hash);
                }
            }
        }

        var refCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var hash in order)
        {
            foreach (var dep in DependenciesOf(hash).Distinct())
            {
                refCounts[dep] = refCounts.GetValueOrDefault(dep) + 1;
            }
        }

        // Previous records first, in their old order; then new ones.
        var written = previous is null ? order : previous.Order.Where(kept.Contains).Concat(order.Where(h => previous.Find(h) is null)).ToList();
        var inCache = roots.ToHashSet(StringComparer.Ordinal);
        var buffer = new ArrayBufferWriter<byte>(Math.Max(4096, (previous?.Count ?? 0) * 1500 + fresh.Count * 1500));
        var w = new PythonJsonWriter(buffer);
        w.StartObject();
        w.WritePropertyName("database");
        w.StartObject();
        w.WriteString("version", databaseVersion.ToString(CultureInfo.InvariantCulture));
        w.WritePropertyName("installs");
        w.StartObject();
        foreach (var hash in written)
        {
            w.WritePropertyName(hash);
            w.StartObject();
            w.WritePropertyName("spec");
            if (fresh.TryGetValue(hash, out var node))
            {
                w.WriteElement(node.Json);
            }
            else
            {
                w.WriteRaw(previous!.SpecBytes(previous.Find(hash)!));
            }

            w.WriteNumber("ref_count", refCounts.GetValueOrDefault(hash));
            w.WritePropertyName("in_buildcache");
            w.WriteBoolean(inCache.Contains(hash));
            w.EndObject();
        }

        w.EndObject();
        w.EndObject();
        w.EndObject();
        return new Composed(buffer.WrittenSpan.ToArray(), written.Count);
    }
}
