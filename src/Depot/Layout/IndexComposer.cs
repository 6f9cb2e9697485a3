using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
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
    private static void CountDependents(List<string> order, Func<string, IReadOnlyList<string>> dependenciesOf,
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

    public static Composed Compose(int databaseVersion, IReadOnlyList<string> roots, IndexSnapshot? previous,
        IReadOnlyDictionary<string, SpecNode> fresh)
    {
        // The dependency hashes of new nodes, as the strings the nodes' own hashes already are (at 200,000 specs,
        // a copy per edge would be some two million more strings).
        var freshDependencies = new Dictionary<string, string[]>(fresh.Count, StringComparer.Ordinal);
        string Shared(string hash) =>
            fresh.TryGetValue(hash, out var node) ? node.Hash : previous?.Find(hash)?.Hash ?? hash;
        IReadOnlyList<string> DependenciesOf(string hash)
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
            CountDependents(order, DependenciesOf, refCounts);

            // Written in the order a full rebuild writes (so the bytes, and the checksum clients key their copies by,
            // are the same); records no root reaches any more stay, after the rest.
            var everything = new List<string>(previous.Count + order.Count);
            var placed = new HashSet<string>(previous.Count + order.Count, StringComparer.Ordinal);
            PostOrder(roots, placed.Contains, placed.Add, everything, DependenciesOf, Exists);
            written = everything;
            foreach (var hash in previous.Order)
            {
                if (!placed.Contains(hash))
                {
                    written.Add(hash);
                }
            }

            unchangedRefCounts = true;
        }
        else
        {
            var kept = new HashSet<string>(StringComparer.Ordinal);
            PostOrder(roots, kept.Contains, kept.Add, order, DependenciesOf, Exists);
            CountDependents(order, DependenciesOf, refCounts);
            written = order; // the full rebuild's order, whether or not a previous index was read
        }

        var inCache = rootSet;

        // The bytes of every spec node to write: stored bytes for previous records and compact fresh nodes, the rest
        // serialised here, once. Knowing them all gives the index's exact length: it is written into one array of
        // that size, which is then handed on as is (at 200,000 specs a growing buffer and a final copy cost two more
        // index-sized arrays).
        var serialised = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        long length = Header(databaseVersion).Length + "}}}"u8.Length + Math.Max(0, written.Count - 1);
        foreach (var hash in written)
        {
            int specLength;
            var refCount = refCounts.GetValueOrDefault(hash);
            if (fresh.TryGetValue(hash, out var node))
            {
                if (!node.IsCompactSource || (databaseVersion >= 8 && NeedsAnnotations(node)))
                {
                    serialised[hash] = Serialise(node, databaseVersion);
                }

                specLength = serialised.TryGetValue(hash, out var bytes) ? bytes.Length : RawBytes(node).Length;
            }
            else
            {
                var record = previous!.Find(hash)!;
                specLength = record.SpecLength;
                if (unchangedRefCounts)
                {
                    refCount += record.RefCount;
                }
            }

            length += RecordLength(hash, specLength, refCount, inCache.Contains(hash));
        }

        var buffer = new ExactBuffer(length);
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
                w.WriteRaw(serialised.TryGetValue(hash, out var bytes) ? bytes : RawBytes(node));
                deps = DependenciesOf(hash);
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
        var json = buffer.Detach();
        return new Composed(json, written.Count, IndexSnapshot.FromWritten(json, "index", databaseVersion, table));
    }

    private static ReadOnlySpan<byte> RawBytes(SpecNode node) => node.CompactText;

    // A node of Spack 1.x's compact text names no "compiler" key (the bytes say so without a property lookup).
    private static bool NeedsAnnotations(SpecNode node) =>
        (!node.IsCompactSource || RawBytes(node).IndexOf("\"compiler\":"u8) >= 0)
        && LegacyNodes.NeedsAnnotations(node.Json);

    private static byte[] Serialise(SpecNode node, int databaseVersion)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        var w = new PythonJsonWriter(buffer);
        if (databaseVersion >= 8 && NeedsAnnotations(node))
        {
            LegacyNodes.WriteAnnotated(w, node.Json); // a Spack 0.21-0.23 node in Spack 1.x's index
        }
        else
        {
            w.WriteElement(node.Json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Header(int databaseVersion) => Encoding.ASCII.GetBytes(
        $"{{\"database\":{{\"version\":\"{databaseVersion.ToString(CultureInfo.InvariantCulture)}\",\"installs\":{{");

    // "HASH":{"spec":SPEC,"ref_count":N,"in_buildcache":BOOL}
    private static long RecordLength(string hash, int specLength, int refCount, bool inBuildcache) =>
        Encoding.UTF8.GetByteCount(hash) + "\"\":{\"spec\":,\"ref_count\":,\"in_buildcache\":}"u8.Length + specLength
        + refCount.ToString(CultureInfo.InvariantCulture).Length + (inBuildcache ? 4 : 5);

    /// <summary>
    /// A buffer of the size the index is computed to have. Should the writer need more (a hash that needs escaping),
    /// it grows and the result is copied: the length is an optimisation, never a limit.
    /// </summary>
    private sealed class ExactBuffer(long length) : IBufferWriter<byte>
    {
        private byte[] array = GC.AllocateUninitializedArray<byte>((int)Math.Min(length, Array.MaxLength));

        public int WrittenCount { get; private set; }

        public void Advance(int count) => WrittenCount += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return array.AsMemory(WrittenCount);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return array.AsSpan(WrittenCount);
        }

        private void Ensure(int sizeHint)
        {
            if (array.Length - WrittenCount < Math.Max(1, sizeHint))
            {
                Array.Resize(ref array, (int)Math.Min(Array.MaxLength,
                    Math.Max((long)array.Length * 2, (long)WrittenCount + Math.Max(1, sizeHint) + 4096)));
            }
        }

        public byte[] Detach() => WrittenCount == array.Length ? array : array.AsSpan(0, WrittenCount).ToArray();
    }
}
