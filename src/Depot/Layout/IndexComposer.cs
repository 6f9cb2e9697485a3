using System.Runtime.InteropServices;
using Depot.Specs;

namespace Depot.Layout;

/// <summary>
/// Plans index JSON for a set of pushed specs (roots) from the previous index and newly read nodes, as Spack's
/// database writes it:
/// <c>{"database":{"version":"8","installs":{hash:{"spec":node,"ref_count":n,"in_buildcache":b}}}}</c>, compact. Only
/// nodes reachable from the roots are kept; <c>ref_count</c> counts indexed dependents. Records come dependencies
/// first, roots in the order given, whether the index is composed from scratch or from a previous one: an incremental
/// index is byte-identical to a full rebuild. The plan (<see cref="ComposedIndex"/>) is written as a stream.
/// <para>
/// When the previous index was written by this composer (<see cref="IndexSnapshot.InComposedOrder"/>) and only specs
/// were added, the new index is spliced (<see cref="IndexSplice"/>): runs of unchanged records are copied as bytes,
/// and only the new records and those whose place, <c>ref_count</c> or <c>in_buildcache</c> changed are written.
/// </para>
/// </summary>
public static class IndexComposer
{
    /// <summary>Adds to <paramref name="order"/> every node reachable from the roots and not yet kept, dependencies
    /// first.</summary>
    internal static void PostOrder(IEnumerable<string> roots, Func<string, bool> isKept, Func<string, bool> keep,
        List<string> order, Func<string, IReadOnlyList<string>> dependenciesOf, Func<string, bool> exists)
    {
        // Iterative (deep DAGs must not overflow the stack), with one frame array and one path set for every root:
        // at 200,000 roots, a stack, a set and a boxed enumerator per root and edge cost more than the walk itself.
        var frames = new Frame[64];
        var depth = 0;
        var onPath = new HashSet<string>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            if (isKept(root) || !exists(root))
            {
                continue;
            }

            onPath.Add(root);
            frames[depth++] = new Frame(root, dependenciesOf(root));
            while (depth > 0)
            {
                ref var top = ref frames[depth - 1];
                if (top.Next < top.Dependencies.Count)
                {
                    var dep = top.Dependencies[top.Next++];
                    if (!isKept(dep) && !onPath.Contains(dep) && exists(dep))
                    {
                        onPath.Add(dep);
                        if (depth == frames.Length)
                        {
                            Array.Resize(ref frames, depth * 2);
                        }

                        frames[depth++] = new Frame(dep, dependenciesOf(dep));
                    }

                    continue;
                }

                var hash = top.Hash;
                frames[--depth] = default;
                onPath.Remove(hash);
                if (keep(hash))
                {
                    order.Add(hash);
                }
            }
        }
    }

    private record struct Frame(string Hash, IReadOnlyList<string> Dependencies)
    {
        public int Next;
    }

    /// <summary>Counts, for each node, the nodes in <paramref name="order"/> that depend on it (each once).</summary>
    internal static void CountDependents(IEnumerable<string> order, Func<string, IReadOnlyList<string>> dependenciesOf,
        Dictionary<string, int> refCounts)
    {
        foreach (var hash in order)
        {
            var deps = dependenciesOf(hash);
            for (var i = 0; i < deps.Count; i++)
            {
                if (!Repeats(deps, i))
                {
                    ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(refCounts, deps[i], out _);
                    count++;
                }
            }
        }

        // An edge list names a dependency once per edge; a node reached by two edges (build and link) counts once.
        static bool Repeats(IReadOnlyList<string> deps, int i)
        {
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(deps[j], deps[i], StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }

    public static ComposedIndex Compose(int databaseVersion, IReadOnlyList<string> roots, IndexSnapshot? previous,
        IReadOnlyDictionary<string, SpecNode> fresh)
    {
        var rootSet = roots.ToHashSet(StringComparer.Ordinal);
        return Compose(databaseVersion, roots, rootSet, previous, fresh,
            previous is not null && previous.Table.All(r => !r.InBuildcache || rootSet.Contains(r.Hash)));
    }

    /// <summary>As <see cref="Compose(int, IReadOnlyList{string}, IndexSnapshot?, IReadOnlyDictionary{string,
    /// SpecNode})"/>, for a caller that already has the set of roots and knows whether every pushed spec of
    /// <paramref name="previous"/> is among them (at 200,000 specs, each is worth not doing twice).</summary>
    internal static ComposedIndex Compose(int databaseVersion, IReadOnlyList<string> roots, HashSet<string> rootSet,
        IndexSnapshot? previous, IReadOnlyDictionary<string, SpecNode> fresh, bool nothingRemoved)
    {
        var graph = new IndexGraph(previous, fresh);
        if (nothingRemoved && previous!.InComposedOrder
            && IndexSplice.TryPlan(roots, rootSet, previous, graph) is { } plan)
        {
            return new ComposedIndex(databaseVersion, plan, graph, previous, spliced: true);
        }

        // Every record, in the order a full rebuild writes (so the bytes, and the checksum clients key their copies
        // by, are the same); when nothing was removed, records no root reaches any more stay, after the rest.
        var placed = new HashSet<string>(StringComparer.Ordinal);
        var written = new List<string>();
        PostOrder(roots, placed.Contains, placed.Add, written, graph.DependenciesOf, graph.Exists);
        if (nothingRemoved)
        {
            written.AddRange(previous!.Order.Where(h => !placed.Contains(h)));
        }

        var refCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        CountDependents(written, graph.DependenciesOf, refCounts);
        var pieces = new List<IndexPiece>(written.Count);
        foreach (var hash in written)
        {
            pieces.Add(IndexPiece.Of(hash, refCounts.GetValueOrDefault(hash), rootSet.Contains(hash)));
        }

        return new ComposedIndex(databaseVersion, pieces, graph, previous);
    }
}

/// <summary>The nodes an index is composed from: the previous index's records and newly read nodes.</summary>
internal sealed class IndexGraph(IndexSnapshot? previous, IReadOnlyDictionary<string, SpecNode> fresh)
{
    // The dependency hashes of new nodes, as the strings the nodes' own hashes already are (at 200,000 specs, a copy
    // per edge would be some two million more strings).
    private readonly Dictionary<string, string[]> freshDependencies = new(fresh.Count, StringComparer.Ordinal);

    public IReadOnlyDictionary<string, SpecNode> Fresh => fresh;

    public bool Exists(string hash) => fresh.ContainsKey(hash) || previous?.Find(hash) is not null;

    public IReadOnlyList<string> DependenciesOf(string hash)
    {
        if (!fresh.TryGetValue(hash, out var node))
        {
            return previous?.Find(hash)?.Dependencies ?? [];
        }

        if (!freshDependencies.TryGetValue(hash, out var deps))
        {
            deps = [.. SpecNode.DependencyHashesOf(node).Select(d => Shared(d.Hash))];
            freshDependencies[hash] = deps;
        }

        return deps;
    }

    private string Shared(string hash) =>
        fresh.TryGetValue(hash, out var node) ? node.Hash : previous?.Find(hash)?.Hash ?? hash;
}
