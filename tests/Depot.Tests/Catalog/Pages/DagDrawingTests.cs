using Depot.Catalog;
using Depot.Catalog.Pages;

namespace Depot.Tests.Catalog.Pages;

/// <summary>The dependency graph drawing: layered so that every edge points down, readable up to 200 nodes.</summary>
public sealed class DagDrawingTests
{
    [Fact]
    public void EveryEdgeGoesFromAHigherLayerToALowerOne()
    {
        // a → b → c, a → c (c must sit below b, not beside it), a → d.
        var graph = Graph(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "c"), ("a", "d")]);
        var layout = DagDrawing.Layout(graph);

        Assert.Equal(3, layout.Layers);
        foreach (var (from, to) in graph.Edges)
        {
            Assert.True(layout.Of(from).Y < layout.Of(to).Y, $"{from} → {to} does not point down");
        }

        Assert.Equal(layout.Of("b").Y, layout.Of("d").Y);
    }

    [Fact]
    public void TwoHundredNodesWrapIntoRowsOfAReadableWidth()
    {
        // A root with 199 direct dependencies: one layer, wrapped.
        var names = Enumerable.Range(0, 200).Select(i => "n" + i).ToList();
        var graph = Graph(names, names.Skip(1).Select(n => ("n0", n)).ToList());
        var layout = DagDrawing.Layout(graph);

        Assert.Equal(200, layout.At.Length);
        Assert.InRange(layout.Width, 600, 1200);
        Assert.Equal(200, layout.At.Distinct().Count()); // no two boxes on one spot
        var html = PageAssert.Render(w => DagDrawing.Write(new HtmlOutput(w),
            new CatalogLinks(PageSettings.Live(false, "/")), "c", graph));
        Assert.InRange(html.Length, 10_000, 100_000);
    }

    [Fact]
    public void ACycleInAMalformedGraphStillDraws()
    {
        var graph = Graph(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "b")]);
        var layout = DagDrawing.Layout(graph);

        Assert.Equal(3, layout.At.Length);
        Assert.True(layout.Of("a").Y < layout.Of("b").Y);
    }

    private static DependencyGraph Graph(IReadOnlyList<string> nodes, IReadOnlyList<(string, string)> edges) =>
        new(nodes.Select(n => new DependencyLink(n, "1.0", n, "link", true)).ToList(), edges);
}
