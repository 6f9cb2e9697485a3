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
    private readonly FacetValues architectures;
    private readonly FacetValues oses;
    private readonly FacetValues compilers;

    private CatalogRows(Entry[] entries)
    {
        this.entries = entries;
        architectures = new FacetValues(entries.Select(e => e.Row.Architecture));
        oses = new FacetValues(entries.Select(e => e.Row.Os));
        compilers = new FacetValues(entries.Select(e => e.Row.Compiler));
        foreach (var e in entries)
        {
            e.Architecture = architectures.IdOf(e.Row.Architecture);
            e.Os = oses.IdOf(e.Row.Os);
            e.Compiler = compilers.IdOf(e.Row.Compiler);
        }

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
        var archCounts = new int[architectures.Values.Length];
        var osCounts = new int[oses.Values.Length];
        var compilerCounts = new int[compilers.Values.Length];

        // A filter value no row has matches nothing (-2 is no row's id); null is any (-1).
        var arch = query.Architecture is null ? -1 : architectures.IdOf(query.Architecture);
        var os = query.Os is null ? -1 : oses.IdOf(query.Os);
        var compiler = query.Compiler is null ? -1 : compilers.IdOf(query.Compiler);
        var limit = Math.Clamp(query.Limit, 0, 500);
        var page = new List<SpecRow>(limit);
        var total = 0;
        var all = terms.IsEmpty;
        foreach (var e in entries)
        {
            if (!all && !terms.Matches(e.Row, e.VariantWords))
            {
                continue;
            }

            archCounts[e.Architecture]++;
            osCounts[e.Os]++;
            compilerCounts[e.Compiler]++;
            if ((arch != -1 && arch != e.Architecture) || (os != -1 && os != e.Os)
                || (compiler != -1 && compiler != e.Compiler))
            {
                continue;
            }

            if (total >= query.Offset && page.Count < limit)
            {
                page.Add(e.Row);
            }

            total++;
        }

        return new SearchResult(total, page, architectures.Facet(archCounts), oses.Facet(osCounts),
            compilers.Facet(compilerCounts), clock.Elapsed);
    }

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

        // Ids of the row's facet values (see FacetValues), so a search counts and filters without hashing strings.
        public int Architecture { get; set; }

        public int Os { get; set; }

        public int Compiler { get; set; }
    }

    /// <summary>The distinct values of one facet, sorted, each with its id (its index).</summary>
    private sealed class FacetValues
    {
        private readonly Dictionary<string, int> ids;

        public FacetValues(IEnumerable<string> values)
        {
            Values = values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            ids = Values.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i, StringComparer.Ordinal);
        }

        public string[] Values { get; }

        public int IdOf(string value) => ids.TryGetValue(value, out var id) ? id : -2;

        public List<FacetValue> Facet(int[] counts)
        {
            var facet = new List<FacetValue>();
            for (var i = 0; i < counts.Length; i++)
            {
                if (counts[i] > 0)
                {
                    facet.Add(new FacetValue(Values[i], counts[i]));
                }
            }

            return facet;
        }
    }
}
