namespace Depot.Tests.Architecture;

/// <summary>
/// The engine's shape, checked on the compiled code: namespaces depend one way, the engine never knows its hosts,
/// stores never know what uses them, and docs/ARCHITECTURE.md shows the graph as it is.
/// </summary>
public sealed class ArchitectureTests
{
    private const string GraphBegin =
        "<!-- namespace-graph:begin (tests/Depot.Tests/Architecture; update: docs/update-architecture-graph.sh) -->";
    private const string GraphEnd = "<!-- namespace-graph:end -->";

    private static readonly Lazy<NamespaceGraph> Engine = new(() => NamespaceGraph.Of(NamespaceGraph.EngineAssemblies(),
        "Depot"));

    [Fact]
    public void EngineNamespacesFormNoCycle()
    {
        Assert.Contains("Depot.Specs", Engine.Value.Edges.Keys); // the graph was read, not empty
        Assert.True(Engine.Value.Edges["Depot.Operations"].Count >= 5);
        var cycles = Engine.Value.Cycles();
        Assert.True(cycles.Count == 0,
            "namespace cycles: " + string.Join("; ", cycles.Select(c => string.Join(" <-> ", c))));
    }

    [Fact]
    public void CycleCheckFindsACycle()
    {
        // The same check over two sample namespaces of this assembly that use each other (CycleSample below).
        var sample = NamespaceGraph.Of([typeof(ArchitectureTests).Assembly], "Depot.Tests.Architecture.CycleSample");
        var cycle = Assert.Single(sample.Cycles());
        Assert.Equal(["Depot.Tests.Architecture.CycleSample.Left", "Depot.Tests.Architecture.CycleSample.Right"],
            cycle);
    }

    [Fact]
    public void EngineNeverReferencesAHost()
    {
        foreach (var assembly in NamespaceGraph.EngineAssemblies())
        {
            var hosts = assembly.GetReferencedAssemblies().Select(a => a.Name!)
                .Where(n => n is "Depot.Cli" or "Depot.Server").ToList();
            Assert.True(hosts.Count == 0, $"{assembly.GetName().Name} references {string.Join(", ", hosts)}");
        }

        Assert.DoesNotContain(Engine.Value.Edges.Keys, ns => ns.StartsWith("Depot.Cli", StringComparison.Ordinal));
    }

    [Fact]
    public void StoresNeverReferenceWhatUsesThem()
    {
        string[] above = ["Depot.Layout", "Depot.Operations", "Depot.Configuration", "Depot.InstallTree",
            "Depot.Archive", "Depot.Relocation"];
        var stores = Engine.Value.Edges.Where(e => e.Key.StartsWith("Depot.Storage", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(stores);
        foreach (var (store, uses) in stores)
        {
            var wrong = uses.Where(u => above.Any(a => u == a || u.StartsWith(a + ".", StringComparison.Ordinal)))
                .ToList();
            Assert.True(wrong.Count == 0, $"{store} uses {string.Join(", ", wrong)}");
        }
    }

    [Fact]
    public void ArchitectureDocumentShowsTheGraph()
    {
        var mermaid = Engine.Value.ToMermaid(omit: "Depot");
        var document = ArchitectureDocument();
        var text = File.ReadAllText(document);
        var expected = $"{GraphBegin}\n```mermaid\n{mermaid}```\n{GraphEnd}";
        if (Environment.GetEnvironmentVariable("DEPOT_UPDATE_ARCHITECTURE_GRAPH") == "1")
        {
            var start = text.IndexOf(GraphBegin, StringComparison.Ordinal);
            var end = text.IndexOf(GraphEnd, StringComparison.Ordinal);
            Assert.True(start >= 0 && end > start, $"{document}: markers not found");
            File.WriteAllText(document, text[..start] + expected + text[(end + GraphEnd.Length)..]);
            return;
        }

        Assert.True(text.Contains(expected, StringComparison.Ordinal),
            $"{document}: the namespace graph is out of date; run docs/update-architecture-graph.sh. "
            + $"Expected:\n{mermaid}");
    }

    private static string ArchitectureDocument()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "docs", "ARCHITECTURE.md");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("docs/ARCHITECTURE.md not found above " + AppContext.BaseDirectory);
    }
}
