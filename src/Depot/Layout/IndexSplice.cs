using System.Globalization;

namespace Depot.Layout;

/// <summary>
/// Plans a new index as the previous one with specs added, without walking the previous records again (see
/// <see cref="IndexComposer"/>). The composer's order is: for each root in turn, the records its walk reaches that no
/// earlier root reached, dependencies first. So in the previous index the records before the end of the last old root
/// that sorts before a new root R are exactly those the earlier roots placed; R's walk goes right there (after them),
/// takes the nodes not yet placed — its new nodes, and previous records that a later root placed (they move up) —
/// and every later root's walk is then its old walk without the records R took. The new index is thus the previous
/// one with R's records inserted and the moved records taken out, which is what a full rebuild writes.
/// <para>
/// Only records whose bytes change are written: new ones, moved ones, ones whose <c>ref_count</c> grew (a new node
/// depends on them) or that became pushed specs (<c>in_buildcache</c>). Runs of the others are copied as they are.
/// A previous index where a record names a missing dependency that is now added, or whose table does not match its
/// bytes, is not spliced (the composer writes every record instead).
/// </para>
/// </summary>
internal static class IndexSplice
{
    /// <summary>The pieces of the new index, or null when it cannot be spliced from <paramref name="previous"/>.
    /// </summary>
    public static List<IndexPiece>? TryPlan(IReadOnlyList<string> roots, HashSet<string> rootSet,
        IndexSnapshot previous, IndexGraph graph)
    {
        var table = previous.Table;
        if (previous.DanglingDependencies is not { } dangling)
        {
            return null;
        }

        var emitted = new HashSet<string>(StringComparer.Ordinal);
        var moved = new bool[table.Count];
        var changed = new bool[table.Count];
        var inserts = new List<Insert>();
        var lastOldRoot = -1; // SpecStart of the last-placed old root seen so far
        foreach (var root in roots)
        {
            var record = previous.Find(root);
            if (record is { InBuildcache: true })
            {
                lastOldRoot = Math.Max(lastOldRoot, record.SpecStart);
                continue;
            }

            var at = FirstAfter(table, lastOldRoot);
            if (record is not null)
            {
                changed[IndexOf(table, record)] = true; // a dependency-only record now pushed
            }

            var segment = new List<string>();
            IndexComposer.PostOrder([root],
                h => emitted.Contains(h) || (previous.Find(h) is { } r && IndexOf(table, r) < at), emitted.Add,
                segment, graph.DependenciesOf, graph.Exists);
            foreach (var hash in segment)
            {
                if (previous.Find(hash) is { } old)
                {
                    moved[IndexOf(table, old)] = true;
                }
                else if (dangling.Contains(hash))
                {
                    return null; // an old record depends on it: a full rebuild places it inside that record's walk
                }
            }

            if (segment.Count > 0)
            {
                inserts.Add(new Insert(at, segment));
            }
        }

        // New nodes raise the ref_count of what they depend on; previous records keep theirs otherwise.
        var fresh = new List<string>();
        foreach (var insert in inserts)
        {
            fresh.AddRange(insert.Hashes.Where(h => previous.Find(h) is null));
        }

        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        IndexComposer.CountDependents(fresh, graph.DependenciesOf, added);
        foreach (var hash in added.Keys)
        {
            if (previous.Find(hash) is { } old)
            {
                changed[IndexOf(table, old)] = true;
            }
        }

        IndexPiece RecordPiece(string hash) =>
            IndexPiece.Of(hash, (previous.Find(hash)?.RefCount ?? 0) + added.GetValueOrDefault(hash),
                rootSet.Contains(hash));

        var pieces = new List<IndexPiece>();
        var runStart = -1;
        void CloseRun(int end)
        {
            if (runStart >= 0)
            {
                pieces.Add(IndexPiece.Run(runStart, end - 1));
                runStart = -1;
            }
        }

        var next = 0;
        for (var i = 0; i <= table.Count; i++)
        {
            for (; next < inserts.Count && inserts[next].At == i; next++)
            {
                CloseRun(i);
                foreach (var hash in inserts[next].Hashes)
                {
                    pieces.Add(RecordPiece(hash));
                }
            }

            if (i == table.Count)
            {
                break;
            }

            if (moved[i] || changed[i])
            {
                CloseRun(i);
                if (!moved[i])
                {
                    pieces.Add(RecordPiece(table[i].Hash));
                }
            }
            else if (runStart < 0)
            {
                runStart = i;
            }
        }

        CloseRun(table.Count);
        foreach (var piece in pieces)
        {
            if (piece.IsRun && !RunMatchesBytes(previous, piece))
            {
                return null;
            }
        }

        return pieces;
    }

    // A new root's records and where they go: before the previous index's record At.
    private sealed record Insert(int At, List<string> Hashes);

    /// <summary>Where a run's records are in the previous index's bytes: from the first's key to the last's closing
    /// brace (the commas between them included).</summary>
    public static (int Start, int End) BytesOf(IndexSnapshot previous, IndexPiece run)
    {
        var first = previous.Table[run.RunFirst];
        var last = previous.Table[run.RunLast];
        return (first.SpecStart - KeyPrefixLength(first.Hash), RecordEnd(last));
    }

    /// <summary>True for a key written between quotes as it is (printable ASCII, no quote or backslash).</summary>
    public static bool IsPlainKey(string hash)
    {
        foreach (var c in hash)
        {
            if (c is < ' ' or > '~' or '"' or '\\')
            {
                return false;
            }
        }

        return true;
    }

    // "HASH":{"spec":
    private static int KeyPrefixLength(string hash) => hash.Length + "\"\":{\"spec\":".Length;

    // ...SPEC,"ref_count":N,"in_buildcache":BOOL}
    private static int RecordEnd(IndexSnapshot.Record record) =>
        record.SpecStart + record.SpecLength + ",\"ref_count\":".Length
        + record.RefCount.ToString(CultureInfo.InvariantCulture).Length
        + (record.InBuildcache ? ",\"in_buildcache\":true}" : ",\"in_buildcache\":false}").Length;

    // The table was saved for these very bytes; checking the ends of each run still costs nothing and makes sure a
    // key that needed escaping, or a table from another writer, never splices the wrong bytes.
    private static bool RunMatchesBytes(IndexSnapshot previous, IndexPiece run)
    {
        var json = previous.Bytes.Span;
        var first = previous.Table[run.RunFirst];
        var (start, end) = BytesOf(previous, run);
        return IsPlainKey(first.Hash) && start >= 0 && end < json.Length && json[start] == (byte)'"'
            && json[(first.SpecStart - 10)..first.SpecStart].SequenceEqual("\":{\"spec\":"u8)
            && json[end - 1] == (byte)'}' && json[end] is (byte)',' or (byte)'}';
    }

    private static int IndexOf(IReadOnlyList<IndexSnapshot.Record> table, IndexSnapshot.Record record)
    {
        var at = FirstAfter(table, record.SpecStart - 1);
        return at < table.Count && ReferenceEquals(table[at], record) ? at
            : throw new InvalidOperationException("index table out of order");
    }

    // The first record whose spec starts after the given offset (records are in increasing SpecStart).
    private static int FirstAfter(IReadOnlyList<IndexSnapshot.Record> table, int specStart)
    {
        int lo = 0, hi = table.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (table[mid].SpecStart <= specStart)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
