using System.Diagnostics;
using Depot.Operations;

namespace Depot.Catalog;

/// <summary>
/// The specs of one cache as the catalog searches them: every row of the index summary, sorted once (name, version
/// newest first, hash), with its variant words split out, and the packages grouped. Built once per index checksum and
/// then only read, by any number of requests at once. A search is one pass over the rows in memory (20,000 rows in a
/// few milliseconds): no index is read, nothing is shipped to the browser.
/// </summary>
public sealed class CatalogRows
{
    private readonly Entry[] entries;
    private readonly Dictionary<string, SpecRow> byHash;
    private readonly Dictionary<string, List<SpecRow>> byPackage;

    private CatalogRows(Entry[] entries)
    {
        this.entries = entries;
        byHash = new Dictionary<string, SpecRow>(entries.Length, StringComparer.Ordinal);
        byPackage = new Dictionary<string, List<SpecRow>>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            byHash.TryAdd(e.Row.Hash, e.Row);
            if (!byPackage.TryGetValue(e.Row.Name, out var list))
            {
                byPackage[e.Row.Name] = list = [];
            }

            list.Add(e.Row);
        }

        Packages = byPackage.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new PackageRow(p.Key, p.Value.Count,
                p.Value.Select(r => r.Version).Distinct(StringComparer.Ordinal).ToList()))
            .ToList();
        Layouts = entries.Select(e => e.Row.Layout).Distinct().OrderDescending().ToList();
    }

    /// <summary>An empty cache (no build cache yet).</summary>
    public static CatalogRows Empty { get; } = new([]);

    /// <summary>Every row, in display order.</summary>
    public IEnumerable<SpecRow> All => entries.Select(e => e.Row);

    /// <summary>How many specs.</summary>
    public int Count => entries.Length;

    /// <summary>The packages, by name; each with its versions newest first.</summary>
    public IReadOnlyList<PackageRow> Packages { get; }

    /// <summary>Layout versions present, newest first.</summary>
    public IReadOnlyList<int> Layouts { get; }

    /// <summary>Builds the table from listing rows (any order; a hash listed twice is kept once).</summary>
    public static CatalogRows From(IEnumerable<ListingRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = rows.Where(r => seen.Add(r.Hash)).Select(r =>
        {
            var words = VariantText.Words(r.VariantsText, r.Short);
            return new Entry(ToSpecRow(r, words), SearchTerms.NormalizeWords(words));
        }).ToList();
        list.Sort((a, b) => DisplayOrder(a.Row, b.Row));
        return new CatalogRows([.. list]);
    }

    /// <summary>By name, then version newest first, then hash.</summary>
    public static int DisplayOrder(SpecRow a, SpecRow b)
    {
        var c = string.CompareOrdinal(a.Name, b.Name);
        if (c == 0)
        {
            c = VersionOrder.Instance.Compare(b.Version, a.Version);
        }

        return c != 0 ? c : string.CompareOrdinal(a.Hash, b.Hash);
    }

    /// <summary>The row of <paramref name="hash"/>, or null.</summary>
    public SpecRow? Find(string hash) => byHash.GetValueOrDefault(hash);

    /// <summary>The rows of package <paramref name="name"/> (display order), or null when the cache has none.</summary>
    public IReadOnlyList<SpecRow>? Package(string name) => byPackage.GetValueOrDefault(name);

    /// <summary>Runs <paramref name="query"/> (see <see cref="CatalogQuery"/> for the terms).</summary>
    /// <exception cref="DepotException">A term is malformed (usage).</exception>
    public SearchResult Search(CatalogQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var clock = Stopwatch.StartNew();
        var terms = SearchTerms.Parse(query.Text);
        var archCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var osCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var compilerCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var page = new List<SpecRow>(Math.Clamp(query.Limit, 0, 500));
        var total = 0;
        foreach (var e in entries)
        {
            if (!terms.Matches(e.Row, e.VariantWords))
            {
                continue;
            }

            var row = e.Row;
            Tally(archCounts, row.Architecture);
            Tally(osCounts, row.Os);
            Tally(compilerCounts, row.Compiler);
            if ((query.Architecture is not null && query.Architecture != row.Architecture)
                || (query.Os is not null && query.Os != row.Os)
                || (query.Compiler is not null && query.Compiler != row.Compiler))
            {
                continue;
            }

            if (total >= query.Offset && page.Count < query.Limit)
            {
                page.Add(row);
            }

            total++;
        }

        return new SearchResult(total, page, Facet(archCounts), Facet(osCounts), Facet(compilerCounts),
            clock.Elapsed);
    }

    private static void Tally(Dictionary<string, int> counts, string value) =>
        counts[value] = counts.GetValueOrDefault(value) + 1;

    private static List<FacetValue> Facet(Dictionary<string, int> counts) =>
        counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new FacetValue(c.Key, c.Value)).ToList();

    /// <summary>A listing row as the catalog's row: the architecture split, the variants without the name.</summary>
    public static SpecRow ToSpecRow(ListingRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return ToSpecRow(row, VariantText.Words(row.VariantsText, row.Short));
    }

    private static SpecRow ToSpecRow(ListingRow row, IReadOnlyList<string> variantWords)
    {
        var parts = row.Architecture.Split('-', 3);
        return new SpecRow(row.Hash, row.Name, row.Version, row.Namespace, row.Architecture, parts[0],
            parts.Length > 1 ? parts[1] : "", parts.Length > 2 ? parts[2] : "", row.CompilerLabel,
            string.Join(' ', variantWords), row.LayoutVersion);
    }

    private sealed class Entry
    {
        public Entry(SpecRow row, string[] variantWords)
        {
            Row = row;
            VariantWords = variantWords;
        }

        public SpecRow Row { get; }

        public string[] VariantWords { get; }
    }
}
