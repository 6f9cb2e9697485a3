using System.Collections.Concurrent;
using Depot.Layout;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>
/// The spec nodes behind an inventory's entries and their link/run edges, for what removal must never break: the
/// index gives the nodes of indexed entries (parsed only when asked for); entries it does not have (pushed since it
/// was written) are read. An entry whose spec cannot be read has unknown dependencies (<see cref="Unknown"/>).
/// </summary>
internal sealed class EntryGraph
{
    private readonly IndexSnapshot? index;
    private readonly ConcurrentDictionary<string, SpecNode> read = new(StringComparer.Ordinal);

    private EntryGraph(IndexSnapshot? index) => this.index = index;

    /// <summary>Entries whose spec could not be read.</summary>
    public List<EntryProblem> Unknown { get; } = [];

    /// <summary>Loads the index and reads the specs of entries it lacks.</summary>
    public static async Task<EntryGraph> LoadAsync(CacheInventory inventory, int parallelism,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        IndexSnapshot? index = null;
        try
        {
            if (await inventory.Layout.ReadIndexBytesAsync(cancellationToken).ConfigureAwait(false) is { } found)
            {
                index = IndexSnapshot.Read(found.Json, found.Location);
            }
        }
        catch (InvalidContentException)
        {
            // every entry is read instead
        }

        var graph = new EntryGraph(index);
        var unindexed = inventory.Entries.Where(e => e.Missing.Count == 0
            && index?.Find(e.Entry.Hash) is not { InBuildcache: true }).Select(e => e.Entry).ToList();
        var (specs, problems) = await EntryReader.ReadAllAsync(inventory.Layout, unindexed, parallelism, progress,
            "read specs", cancellationToken).ConfigureAwait(false);
        foreach (var (_, spec) in specs)
        {
            foreach (var node in spec.Nodes)
            {
                graph.read.TryAdd(node.Hash, node);
            }
        }

        graph.Unknown.AddRange(problems);
        return graph;
    }

    /// <summary>The node of <paramref name="hash"/>, or null when neither the index nor a read spec has it.</summary>
    public SpecNode? Node(string hash) => read.TryGetValue(hash, out var node) ? node : index?.Node(hash);

    /// <summary>
    /// Every hash reachable from <paramref name="roots"/> over link and run edges, the roots included: what must stay
    /// for the roots to install.
    /// </summary>
    public HashSet<string> Closure(IEnumerable<string> roots)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(roots);
        while (stack.TryPop(out var hash))
        {
            if (!seen.Add(hash))
            {
                continue;
            }

            foreach (var edge in Node(hash)?.Dependencies ?? [])
            {
                if ((edge.Types & (DepTypes.Link | DepTypes.Run)) != 0 && !seen.Contains(edge.Hash))
                {
                    stack.Push(edge.Hash);
                }
            }
        }

        return seen;
    }

    /// <summary><c>name@version/hash7</c> when the node is known, else the entry's own name.</summary>
    public string Display(SpecEntry entry) =>
        Node(entry.Hash) is { } node ? $"{node.Name}@{node.Version}/{entry.Hash[..7]}" : entry.DisplayName;
}
