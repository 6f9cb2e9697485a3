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
            : $"Dependency graph of {root.Name}@{root.Version}: {HumanUnits.Count(graph.Nodes.Count, "spec")}, "
                + $"{HumanUnits.Count(graph.Edges.Count, "dependency edge")}, {layout.Layers} levels deep.";
        html.Open("figure", ("id", "dag")).Raw("\n")
            .Open("svg", ("xmlns", "http://www.w3.org/2000/svg"), ("role", "img"), ("aria-label", label),
                ("class", "dag"), ("width", N(layout.Width)), ("height", N(layout.Height)),
                ("viewBox", $"0 0 {N(layout.Width)} {N(layout.Height)}")).Raw("\n");
        html.Open("g", ("class", "edges"));
        foreach (var (from, to) in graph.Edges)
        {
            if (layout.Positions.TryGetValue(from, out var a) && layout.Positions.TryGetValue(to, out var b))
            {
                var x1 = a.X + (NodeWidth / 2);
                var y1 = a.Y + NodeHeight;
                var x2 = b.X + (NodeWidth / 2);
                var y2 = b.Y;
                var bend = Math.Max(12, (y2 - y1) / 2);
                html.SelfClosing("path", ("class", "edge"),
                    ("d", $"M{N(x1)} {N(y1)} C{N(x1)} {N(y1 + bend)} {N(x2)} {N(y2 - bend)} {N(x2)} {N(y2)}"));
            }
        }

        html.Close("g").Raw("\n");
        for (var i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            if (!layout.Positions.TryGetValue(node.Hash, out var at))
            {
                continue;
            }

            var text = node.Name + "@" + node.Version;
            var shown = text.Length > MaxLabel ? text[..(MaxLabel - 1)] + "…" : text;
            var kind = i == 0 ? "node root" : node.InCache ? "node" : "node absent";
            html.Open("g", ("class", kind), ("data-hash", node.Hash),
                    ("data-href", node.InCache && i > 0 ? links.Spec(cache, node.Hash) : null))
                .Element("title", text + " /" + node.Hash + (node.InCache ? "" : " (not in this cache)"))
                .SelfClosing("rect", ("x", N(at.X)), ("y", N(at.Y)), ("width", N(NodeWidth)),
                    ("height", N(NodeHeight)), ("rx", "5"))
                .Element("text", shown, ("x", N(at.X + (NodeWidth / 2))), ("y", N(at.Y + (NodeHeight / 2))),
                    ("text-anchor", "middle"), ("dominant-baseline", "central"))
                .Close("g").Raw("\n");
        }

        html.Close("svg").Raw("\n")
            .Element("figcaption", "Each box is a spec, each line a dependency (parents above). Boxes of specs in this "
                + "cache open their page when clicked; the lists above link the same specs.")
            .Close("figure").Raw("\n");
    }

    /// <summary>Where each node goes, and the picture's size.</summary>
    internal sealed record GraphLayout(IReadOnlyDictionary<string, (int X, int Y)> Positions, int Width, int Height,
        int Layers);

    /// <summary>Places the nodes (exposed for tests: every edge goes down).</summary>
    internal static GraphLayout Layout(DependencyGraph graph)
    {
        var depth = Depths(graph);
        var parents = graph.Edges.GroupBy(e => e.To, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.From).ToList(), StringComparer.Ordinal);
        var names = graph.Nodes.GroupBy(n => n.Hash, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Name + "@" + g.First().Version, StringComparer.Ordinal);
        var layers = depth.GroupBy(d => d.Value).OrderBy(g => g.Key).Select(g => g.Select(d => d.Key).ToList())
            .ToList();

        // Order within a layer by the mean position of the parents already placed (fewer crossings), then by name.
        var order = new Dictionary<string, double>(StringComparer.Ordinal);
        var positions = new Dictionary<string, (int X, int Y)>(StringComparer.Ordinal);
        var y = Margin;
        var widest = 1;
        foreach (var layer in layers)
        {
            var sorted = layer.OrderBy(h => parents.TryGetValue(h, out var ps) && ps.Any(order.ContainsKey)
                    ? ps.Where(order.ContainsKey).Average(p => order[p]) : 0)
                .ThenBy(h => names.GetValueOrDefault(h, h), StringComparer.Ordinal).ToList();
            for (var i = 0; i < sorted.Count; i++)
            {
                var column = i % MaxPerRow;
                var row = i / MaxPerRow;
                order[sorted[i]] = (double)i / Math.Max(1, sorted.Count - 1);
                positions[sorted[i]] = (Margin + (column * (NodeWidth + ColumnGap)), y + (row * (NodeHeight + RowGap)));
            }

            widest = Math.Max(widest, Math.Min(sorted.Count, MaxPerRow));
            var rows = (sorted.Count + MaxPerRow - 1) / MaxPerRow;
            y += (rows * (NodeHeight + RowGap)) - RowGap + LayerGap;
        }

        var width = (2 * Margin) + (widest * (NodeWidth + ColumnGap)) - ColumnGap;
        var height = layers.Count == 0 ? 2 * Margin : y - LayerGap + Margin;
        return new GraphLayout(positions, width, height, layers.Count);
    }

    /// <summary>
    /// Each node's depth: the longest path to it from a node nothing points at (the spec), so children sit below all
    /// their parents. Kahn's order; nodes left in a cycle (a malformed graph) go one layer below the deepest.
    /// </summary>
    private static Dictionary<string, int> Depths(DependencyGraph graph)
    {
        var nodes = graph.Nodes.Select(n => n.Hash).Distinct(StringComparer.Ordinal).ToList();
        var known = nodes.ToHashSet(StringComparer.Ordinal);
        var edges = graph.Edges.Where(e => known.Contains(e.From) && known.Contains(e.To) && e.From != e.To)
            .Distinct().ToList();
        var incoming = nodes.ToDictionary(n => n, _ => 0, StringComparer.Ordinal);
        var outgoing = nodes.ToDictionary(n => n, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var (from, to) in edges)
        {
            incoming[to]++;
            outgoing[from].Add(to);
        }

        var depth = nodes.ToDictionary(n => n, _ => 0, StringComparer.Ordinal);
        var ready = new Queue<string>(nodes.Where(n => incoming[n] == 0));
        var placed = new HashSet<string>(StringComparer.Ordinal);
        while (ready.TryDequeue(out var node))
        {
            placed.Add(node);
            foreach (var child in outgoing[node])
            {
                depth[child] = Math.Max(depth[child], depth[node] + 1);
                if (--incoming[child] == 0)
                {
                    ready.Enqueue(child);
                }
            }
        }

        var deepest = depth.Count == 0 ? 0 : depth.Values.Max();
        foreach (var node in nodes.Where(n => !placed.Contains(n)))
        {
            depth[node] = deepest + 1;
        }

        return depth;
    }

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
}
