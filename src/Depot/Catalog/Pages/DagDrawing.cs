using System.Globalization;

namespace Depot.Catalog.Pages;

/// <summary>
/// A spec's dependency DAG as inline SVG, drawn on the server (no script, no library): nodes in layers by depth (the
/// longest path from the spec, so every edge points down), ordered within a layer by where their parents sit, a wide
/// layer wrapped onto several rows; edges as curves from parent to child. Each node is a labelled box with a
/// <c>&lt;title&gt;</c>. The picture is <c>role="img"</c>, whose content assistive technology does not enter, so the
/// boxes hold no links (a link inside an image is one a screen reader never announces; axe's nested-interactive rule):
/// a node in the cache carries its page's address in <c>data-href</c>, which the script follows on click, and the
/// dependency lists above hold the same links for everyone.
/// </summary>
internal static class DagDrawing
{
    private const int NodeWidth = 176;
    private const int NodeHeight = 30;
    private const int ColumnGap = 16;
    private const int RowGap = 14;
    private const int LayerGap = 40;
    private const int Margin = 8;
    private const int MaxPerRow = 6;
    private const int MaxLabel = 24;

    /// <summary>Writes <c>figure#dag</c> holding the drawing.</summary>
    public static void Write(HtmlOutput html, CatalogLinks links, string cache, DependencyGraph graph)
    {
        var layout = Layout(graph);
        var root = graph.Nodes.Count > 0 ? graph.Nodes[0] : null;
        var label = root is null ? "Dependency graph (empty)"
            : $"Dependency graph of {root.Name}@{root.Version}: {HumanUnits.Count(layout.At.Length, "spec")}, "
                + $"{HumanUnits.Count(layout.Edges.Count, "dependency edge")}, {layout.Layers} levels deep.";
        html.Open("figure", ("id", "dag")).Raw("\n")
            .Open("svg", ("xmlns", "http://www.w3.org/2000/svg"), ("role", "img"), ("aria-label", label),
                ("class", "dag"), ("width", N(layout.Width)), ("height", N(layout.Height)),
                ("viewBox", $"0 0 {N(layout.Width)} {N(layout.Height)}")).Raw("\n");

        // Every edge in one path: thousands of spec pages in an export each draw theirs.
        if (layout.Edges.Count > 0)
        {
            var d = new System.Text.StringBuilder(layout.Edges.Count * 40);
            foreach (var (from, to) in layout.Edges)
            {
                var (x1, y1) = (layout.At[from].X + (NodeWidth / 2), layout.At[from].Y + NodeHeight);
                var (x2, y2) = (layout.At[to].X + (NodeWidth / 2), layout.At[to].Y);
                var bend = Math.Max(12, (y2 - y1) / 2);
                d.Append(CultureInfo.InvariantCulture, $"M{x1} {y1}C{x1} {y1 + bend} {x2} {y2 - bend} {x2} {y2}");
            }

            html.SelfClosing("path", ("class", "edge"), ("d", d.ToString())).Raw("\n");
        }

        for (var i = 0; i < layout.At.Length; i++)
        {
            var node = layout.Nodes[i];
            var at = layout.At[i];
            var text = node.Name + "@" + node.Version;
            var shown = text.Length > MaxLabel ? text[..(MaxLabel - 1)] + "…" : text;
            var kind = i == 0 ? "node root" : node.InCache ? "node" : "node absent";
            html.Open("g", ("class", kind), ("data-href", node.InCache && i > 0 ? links.Spec(cache, node.Hash) : null))
                .Element("title", text + " /" + HumanUnits.ShortHash(node.Hash)
                    + (node.InCache ? "" : " (not in this cache)"))
                .SelfClosing("rect", ("x", N(at.X)), ("y", N(at.Y)), ("width", WidthText), ("height", HeightText),
                    ("rx", "5"))
                .Element("text", shown, ("x", N(at.X + (NodeWidth / 2))), ("y", N(at.Y + (NodeHeight / 2))))
                .Close("g").Raw("\n");
        }

        html.Close("svg").Raw("\n")
            .Element("figcaption", "Each box is a spec, each line a dependency (parents above). Boxes of specs in this "
                + "cache open their page when clicked; the lists above link the same specs.")
            .Close("figure").Raw("\n");
    }

    /// <summary>Where each node goes (by its index among the distinct nodes, the spec first), the edges between those
    /// indexes, and the picture's size.</summary>
    internal sealed record GraphLayout(DependencyLink[] Nodes, (int X, int Y)[] At,
        IReadOnlyList<(int From, int To)> Edges, int Width, int Height, int Layers)
    {
        /// <summary>Where the node with <paramref name="hash"/> sits.</summary>
        public (int X, int Y) Of(string hash) => At[Array.FindIndex(Nodes, n => n.Hash == hash)];
    }

    /// <summary>Places the nodes (exposed for tests: every edge goes down).</summary>
    internal static GraphLayout Layout(DependencyGraph graph)
    {
        // Nodes as indexes once; the rest works on arrays (an export draws one graph per spec).
        var index = new Dictionary<string, int>(graph.Nodes.Count, StringComparer.Ordinal);
        var nodes = new List<DependencyLink>(graph.Nodes.Count);
        foreach (var node in graph.Nodes)
        {
            if (index.TryAdd(node.Hash, nodes.Count))
            {
                nodes.Add(node);
            }
        }

        var count = nodes.Count;
        var seen = new HashSet<long>();
        var edges = new List<(int From, int To)>(graph.Edges.Count);
        var children = new List<int>[count];
        var parents = new List<int>[count];
        for (var i = 0; i < count; i++)
        {
            children[i] = [];
            parents[i] = [];
        }

        foreach (var (fromHash, toHash) in graph.Edges)
        {
            if (index.TryGetValue(fromHash, out var from) && index.TryGetValue(toHash, out var to) && from != to
                && seen.Add(((long)from << 32) | (uint)to))
            {
                edges.Add((from, to));
                children[from].Add(to);
                parents[to].Add(from);
            }
        }

        var depth = Depths(count, children, parents);
        var layerCount = count == 0 ? 0 : depth.Max() + 1;
        var layers = new List<int>[layerCount];
        for (var i = 0; i < layerCount; i++)
        {
            layers[i] = [];
        }

        for (var i = 0; i < count; i++)
        {
            layers[depth[i]].Add(i);
        }

        // Order within a layer by the mean position of the parents above (fewer crossings), then by label.
        var order = new double[count];
        var at = new (int X, int Y)[count];
        var y = Margin;
        var widest = 1;
        foreach (var layer in layers)
        {
            var keys = new double[layer.Count];
            for (var k = 0; k < layer.Count; k++)
            {
                var above = parents[layer[k]].Where(p => depth[p] < depth[layer[k]]).ToList();
                keys[k] = above.Count == 0 ? 0 : above.Average(p => order[p]);
            }

            var sorted = Enumerable.Range(0, layer.Count).OrderBy(k => keys[k])
                .ThenBy(k => nodes[layer[k]].Name, StringComparer.Ordinal)
                .ThenBy(k => nodes[layer[k]].Version, StringComparer.Ordinal).Select(k => layer[k]).ToList();
            for (var i = 0; i < sorted.Count; i++)
            {
                order[sorted[i]] = (double)i / Math.Max(1, sorted.Count - 1);
                at[sorted[i]] = (Margin + (i % MaxPerRow * (NodeWidth + ColumnGap)),
                    y + (i / MaxPerRow * (NodeHeight + RowGap)));
            }

            widest = Math.Max(widest, Math.Min(sorted.Count, MaxPerRow));
            var rows = (sorted.Count + MaxPerRow - 1) / MaxPerRow;
            y += (rows * (NodeHeight + RowGap)) - RowGap + LayerGap;
        }

        var width = (2 * Margin) + (widest * (NodeWidth + ColumnGap)) - ColumnGap;
        var height = layerCount == 0 ? 2 * Margin : y - LayerGap + Margin;
        return new GraphLayout([.. nodes], at, edges, width, height, layerCount);
    }

    /// <summary>
    /// Each node's depth: the longest path to it from a node nothing points at (the spec), so children sit below all
    /// their parents. Kahn's order; nodes left in a cycle (a malformed graph) go one layer below the deepest.
    /// </summary>
    private static int[] Depths(int count, List<int>[] children, List<int>[] parents)
    {
        var incoming = new int[count];
        for (var i = 0; i < count; i++)
        {
            incoming[i] = parents[i].Count;
        }

        var depth = new int[count];
        var placed = new bool[count];
        var ready = new Queue<int>(Enumerable.Range(0, count).Where(i => incoming[i] == 0));
        while (ready.TryDequeue(out var node))
        {
            placed[node] = true;
            foreach (var child in children[node])
            {
                depth[child] = Math.Max(depth[child], depth[node] + 1);
                if (--incoming[child] == 0)
                {
                    ready.Enqueue(child);
                }
            }
        }

        var deepest = count == 0 ? 0 : depth.Max();
        for (var i = 0; i < count; i++)
        {
            if (!placed[i])
            {
                depth[i] = deepest + 1;
            }
        }

        return depth;
    }

    private static readonly string WidthText = N(NodeWidth);
    private static readonly string HeightText = N(NodeHeight);

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
}
