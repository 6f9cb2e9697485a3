using System.Buffers;
using System.Globalization;
using Depot.Formats;
using Depot.Specs;

namespace Depot.Layout;

/// <summary>
/// Writes index JSON for a set of pushed specs (roots) from the previous index and newly read nodes, as Spack's
/// database writes it:
/// <c>{"database":{"version":"8","installs":{hash:{"spec":node,"ref_count":n,"in_buildcache":b}}}}</c>, compact. Only
/// nodes reachable from the roots are kept; <c>ref_count</c> counts indexed dependents. Records of the previous index
/// keep their stored node bytes. Records come dependencies first, roots in the order given, whether the index is
/// composed from scratch or from a previous one: an incremental index is byte-identical to a full rebuild.
/// </summary>
public static class IndexComposer
{
    /// <summary>The index JSON and its record table (what <see cref="IndexSnapshot.Read"/> would find in it).</summary>
    public sealed record Composed(byte[] Json, int Records, IndexSnapshot Snapshot);

    /// <summary>Adds to <paramref name="order"/> every node reachable from the roots and not yet kept, dependencies
    /// first.</summary>
    private static void PostOrder(IEnumerable<string> roots, Func<string, bool> isKept, Func<string, bool> keep,
        List<string> order, Func<string, IEnumerable<string>> dependenciesOf, Func<string, bool> exists)
    {
        // Iterative: deep DAGs must not overflow the stack.
        foreach (var root in roots)
        {
            if (isKept(root) || !exists(root))
            {
                continue;
            }

            var stack = new Stack<(string Hash, IEnumerator<string> Deps)>();
            var onPath = new HashSet<string>(StringComparer.Ordinal) { root };
            stack.Push((root, dependenciesOf(root).GetEnumerator()));
            while (stack.Count > 0)
            {
                var (hash, deps) = stack.Peek();
                if (deps.MoveNext())
                {
                    var dep = deps.Current;
                    if (!isKept(dep) && !onPath.Contains(dep) && exists(dep))
                    {
                        onPath.Add(dep);
                        stack.Push((dep, dependenciesOf(dep).GetEnumerator()));
                    }

                    continue;
                }

                stack.Pop();
                onPath.Remove(hash);
                if (keep(hash))
                {
                    order.Add(hash);
                }
            }
        }
    }

    public static Composed Compose(int databaseVersion, IReadOnlyList<string> roots, IndexSnapshot? previous,
        IReadOnlyDictionary<string, SpecNode> fresh)
    {
        IEnumerable<string> DependenciesOf(string hash) =>
            fresh.TryGetValue(hash, out var node) ? node.DependencyHashList
            : previous?.Find(hash)?.Dependencies ?? [];

        bool Exists(string hash) => fresh.ContainsKey(hash) || previous?.Find(hash) is not null;

        var rootSet = roots.ToHashSet(StringComparer.Ordinal);
        var order = new List<string>();
        var refCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        List<string> written;
        var unchangedRefCounts = false;
        if (previous is not null
            && previous.Order.All(h => previous.Find(h)!.InBuildcache == false || rootSet.Contains(h)))
        {
            // Nothing was removed: every previous record stays with its ref_count, raised by the new dependents.
            // Only the new nodes are walked.
            var added = new HashSet<string>(StringComparer.Ordinal);
            PostOrder(roots.Where(r => previous.Find(r) is null),
                h => previous.Find(h) is not null || added.Contains(h), h => added.Add(h),
                order, DependenciesOf, Exists);
            foreach (var hash in order)
            {
                foreach (var dep in DependenciesOf(hash).Distinct())
                {
                    refCounts[dep] = refCounts.GetValueOrDefault(dep) + 1;
                }
            }

            // Written in the order a full rebuild writes (so the bytes, and the checksum clients key their copies by,
            // are the same); records no root reaches any more stay, after the rest.
            var everything = new List<string>(previous.Count + order.Count);
            var placed = new HashSet<string>(StringComparer.Ordinal);
            PostOrder(roots, placed.Contains, placed.Add, everything, DependenciesOf, Exists);
            written = [.. everything, .. previous.Order.Where(h => !placed.Contains(h))];
            unchangedRefCounts = true;
        }
        else
        {
            var kept = new HashSet<string>(StringComparer.Ordinal);
            PostOrder(roots, kept.Contains, kept.Add, order, DependenciesOf, Exists);
            foreach (var hash in order)
            {
                foreach (var dep in DependenciesOf(hash).Distinct())
                {
                    refCounts[dep] = refCounts.GetValueOrDefault(dep) + 1;
                }
            }

            written = order; // the full rebuild's order, whether or not a previous index was read
        }

        var inCache = rootSet;
        var buffer = new ArrayBufferWriter<byte>(Math.Max(4096, (previous?.Count ?? 0) * 1500 + fresh.Count * 1500));
        var w = new PythonJsonWriter(buffer);
        w.StartObject();
        w.WritePropertyName("database");
        w.StartObject();
        w.WriteString("version", databaseVersion.ToString(CultureInfo.InvariantCulture));
        w.WritePropertyName("installs");
        w.StartObject();
        var table = new List<IndexSnapshot.Record>(written.Count);
        foreach (var hash in written)
        {
            w.WritePropertyName(hash);
            w.StartObject();
            w.WritePropertyName("spec");
            var specStart = buffer.WrittenCount;
            IReadOnlyList<string> deps;
            var refCount = refCounts.GetValueOrDefault(hash);
            if (fresh.TryGetValue(hash, out var node))
            {
                if (databaseVersion >= 8 && LegacyNodes.NeedsAnnotations(node.Json))
                {
                    LegacyNodes.WriteAnnotated(w, node.Json); // a Spack 0.21-0.23 node in Spack 1.x's index
                }
                else if (node.IsCompactSource)
                {
                    w.WriteRaw(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(node.Json));
                }
                else
                {
                    w.WriteElement(node.Json);
                }

                deps = node.DependencyHashList;
            }
            else
            {
                var record = previous!.Find(hash)!;
                w.WriteRaw(previous.SpecBytes(record));
                deps = record.Dependencies;
                if (unchangedRefCounts)
                {
                    refCount += record.RefCount;
                }
            }

            table.Add(new IndexSnapshot.Record(hash, specStart, buffer.WrittenCount - specStart, refCount,
                inCache.Contains(hash), deps));
            w.WriteNumber("ref_count", refCount);
            w.WritePropertyName("in_buildcache");
            w.WriteBoolean(inCache.Contains(hash));
            w.EndObject();
        }

        w.EndObject();
        w.EndObject();
        w.EndObject();
        var json = buffer.WrittenSpan.ToArray();
        return new Composed(json, written.Count, IndexSnapshot.FromWritten(json, "index", databaseVersion, table));
    }
}
