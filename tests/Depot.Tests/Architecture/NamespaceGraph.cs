using Assembly = System.Reflection.Assembly;
using ArchUnitNET.Loader;

namespace Depot.Tests.Architecture;

/// <summary>
/// Which namespace uses which, read from compiled assemblies (every type reference, including method bodies), so a
/// dependency cannot hide behind a fully qualified name the way it can from a text search.
/// </summary>
public sealed class NamespaceGraph
{
    private NamespaceGraph(SortedDictionary<string, SortedSet<string>> edges) => Edges = edges;

    /// <summary>Namespace → the namespaces it uses (itself excluded).</summary>
    public SortedDictionary<string, SortedSet<string>> Edges { get; }

    /// <summary>The engine: every Depot assembly next to the tests except the hosts, the benchmarks and the
    /// tests.</summary>
    public static IReadOnlyList<Assembly> EngineAssemblies()
    {
        string[] notEngine = ["Depot.Cli", "Depot.Server", "Depot.Bench", "Depot.Tests"];
        return Directory.GetFiles(AppContext.BaseDirectory, "Depot*.dll")
            .Select(path => Path.GetFileNameWithoutExtension(path))
            .Where(name => !notEngine.Contains(name))
            .Order(StringComparer.Ordinal)
            .Select(name => Assembly.Load(new System.Reflection.AssemblyName(name)))
            .ToList();
    }

    /// <summary>The graph of the namespaces starting with <paramref name="root"/> in these assemblies.</summary>
    public static NamespaceGraph Of(IEnumerable<Assembly> assemblies, string root)
    {
        var architecture = new ArchLoader().LoadAssemblies(assemblies.ToArray()).Build();
        bool Inside(string ns) => ns == root || ns.StartsWith(root + ".", StringComparison.Ordinal);
        var edges = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var type in architecture.Types.Where(t => Inside(t.Namespace.FullName)))
        {
            var from = type.Namespace.FullName;
            var targets = edges.TryGetValue(from, out var set) ? set
                : edges[from] = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var to in type.Dependencies.Select(d => d.Target?.Namespace?.FullName).OfType<string>())
            {
                if (to != from && Inside(to))
                {
                    targets.Add(to);
                }
            }
        }

        return new NamespaceGraph(edges);
    }

    /// <summary>Groups of namespaces that reach each other (strongly connected, more than one), each sorted.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        // Tarjan's algorithm; the graphs here have a few dozen nodes, so recursion depth is no concern.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var cycles = new List<IReadOnlyList<string>>();

        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in Edges.GetValueOrDefault(node) ?? [])
            {
                if (!index.TryGetValue(next, out var nextIndex))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next))
                {
                    low[node] = Math.Min(low[node], nextIndex);
                }
            }

            if (low[node] == index[node])
            {
                var component = new List<string>();
                string popped;
                do
                {
                    popped = stack.Pop();
                    onStack.Remove(popped);
                    component.Add(popped);
                }
                while (popped != node);
                if (component.Count > 1)
                {
                    cycles.Add(component.Order(StringComparer.Ordinal).ToList());
                }
            }
        }

        foreach (var node in Edges.Keys.Where(n => !index.ContainsKey(n)))
        {
            Visit(node);
        }

        return cycles;
    }

    /// <summary>
    /// The graph as a mermaid flowchart, arrows pointing from user to used, without arrows a longer path already
    /// implies (so the picture shows the layers) and without arrows into <paramref name="omit"/> (the root namespace
    /// every layer uses for its exception type).
    /// </summary>
    public string ToMermaid(string omit)
    {
        var lines = new List<string> { "flowchart TD" };
        foreach (var (from, targets) in Edges.Where(e => e.Key != omit))
        {
            foreach (var to in targets.Where(t => t != omit && !ReachableAvoiding(from, t)))
            {
                lines.Add($"    {Id(from)}[{from}] --> {Id(to)}[{to}]");
            }
        }

        return string.Join('\n', lines) + "\n";
    }

    /// <summary>True when <paramref name="to"/> is reachable from <paramref name="from"/> by a path of two or more
    /// arrows.</summary>
    private bool ReachableAvoiding(string from, string to)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var work = new Stack<string>((Edges.GetValueOrDefault(from) ?? []).Where(n => n != to));
        while (work.TryPop(out var node))
        {
            if (node == to)
            {
                return true;
            }

            if (seen.Add(node))
            {
                foreach (var next in Edges.GetValueOrDefault(node) ?? [])
                {
                    work.Push(next);
                }
            }
        }

        return false;
    }

    private static string Id(string ns) => ns.Replace('.', '_');
}
