using System.Globalization;

namespace Depot.Catalog.Pages;

/// <summary>What the cache page shows.</summary>
/// <param name="Summary">The cache.</param>
/// <param name="Query">The search the results answer (empty text: every spec).</param>
/// <param name="Results">One page of results and the filters' values.</param>
/// <param name="Packages">One page of the cache's packages.</param>
/// <param name="PackagePage">Which page of packages (1-based).</param>
/// <param name="Activity">Recent pushes, newest first.</param>
/// <param name="SearchProblem">Why the search could not run (a malformed hash prefix), shown instead of a count.
/// </param>
public sealed record CachePageModel(CacheSummary Summary, CatalogQuery Query, SearchResult Results,
    PackageListing Packages, int PackagePage, IReadOnlyList<PushActivity> Activity, string? SearchProblem = null);

/// <summary>
/// <c>/CACHE/</c>: the search form (<c>form#search-form</c>; works without JavaScript: a GET of this page with
/// <c>q</c>, <c>arch</c>, <c>os</c>, <c>compiler</c>), its results (<c>ul#results</c>), the packages a page at a time
/// (<c>section#packages</c>, <c>nav.pager</c>), recent pushes (<c>section#activity</c>) and a link to the keys.
/// </summary>
public static class CachePage
{
    /// <summary>Packages listed per page.</summary>
    public const int PackagesPerPage = 100;

    /// <summary>Results listed per page.</summary>
    public const int ResultsPerPage = 50;

    /// <summary>Writes the page.</summary>
    public static void Write(TextWriter writer, PageSettings settings, CachePageModel model)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(model);
        var html = new HtmlOutput(writer);
        var links = new CatalogLinks(settings);
        var cache = model.Summary.Name;
        PageLayout.Begin(html, settings, cache, [new Crumb(cache)], cache);
        html.Element("h1", cache);
        Facts(html, links, model.Summary);
        SearchForm(html, settings, links, model);
        Results(html, settings, links, model);
        Packages(html, settings, links, model);
        Activity(html, links, cache, model.Activity);
        PageLayout.End(html, settings);
    }

    private static void Facts(HtmlOutput html, CatalogLinks links, CacheSummary summary)
    {
        html.Open("p", ("class", "cache-facts"))
            .Text(HumanUnits.Count(summary.Specs, "spec") + " · " + HumanUnits.Count(summary.Packages, "package"));
        if (summary.TotalBytes is { } bytes)
        {
            html.Text(" · ").Element("span", HumanUnits.Size(bytes), ("title", HumanUnits.Bytes(bytes)));
        }

        html.Text(" · " + (summary.Public ? "public" : "private"));
        if (summary.LastPush is { } last)
        {
            html.Text(" · last push ");
            CachesPage.WriteTime(html, last, "");
        }

        html.Text(" · ").Element("a", "Signing keys", ("id", "keys-link"), ("href", links.Keys(summary.Name)))
            .Close("p").Raw("\n");
    }

    private static void SearchForm(HtmlOutput html, PageSettings settings, CatalogLinks links, CachePageModel model)
    {
        var cache = model.Summary.Name;
        var query = model.Query;
        html.Open("form", ("id", "search-form"), ("method", "get"), ("action", links.Cache(cache)),
                ("role", "search"), ("data-spec-href", links.Spec(cache, "HASH")),
                ("data-index", settings.IsStatic ? links.CacheFile(cache, "search.json") : null))
            .Raw("\n<div class=\"search-row\">")
            .Element("label", "Search specs", ("for", "search"))
            .Void("input", ("id", "search"), ("type", "search"), ("name", "q"), ("value", query.Text),
                ("placeholder", "zlib, zlib@1.3, +shared, /abc1234"), ("autocomplete", "off"),
                ("spellcheck", "false"), ("aria-describedby", "search-help"))
            .Element("button", "Search", ("type", "submit"))
            .Raw("</div>\n")
            .Element("p", "Words that must all match: a name prefix, name@version, a variant (+mpi, ~shared, "
                + "build_system=cmake) or a hash prefix (/abc1234).", ("id", "search-help"), ("class", "help"))
            .Raw("\n<div class=\"filters\">");
        Filter(html, "arch", "Architecture", query.Architecture, model.Results.Architectures);
        Filter(html, "os", "Operating system", query.Os, model.Results.Oses);
        Filter(html, "compiler", "Compiler", query.Compiler, model.Results.Compilers);
        html.Raw("</div>\n").Close("form").Raw("\n");
    }

    private static void Filter(HtmlOutput html, string name, string label, string? selected,
        IReadOnlyList<FacetValue> values)
    {
        html.Open("div", ("class", "filter")).Element("label", label, ("for", name))
            .Open("select", ("id", name), ("name", name))
            .Element("option", "any", ("value", ""));
        var found = false;
        foreach (var value in values)
        {
            var isSelected = value.Value == selected;
            found |= isSelected;
            html.Element("option", value.Value + " (" + value.Count.ToString(CultureInfo.InvariantCulture) + ")",
                ("value", value.Value), ("selected", isSelected ? "" : null));
        }

        if (!found && !string.IsNullOrEmpty(selected))
        {
            html.Element("option", selected + " (0)", ("value", selected), ("selected", ""));
        }

        html.Close("select").Close("div");
    }

    private static void Results(HtmlOutput html, PageSettings settings, CatalogLinks links, CachePageModel model)
    {
        var cache = model.Summary.Name;
        var results = model.Results;
        html.Open("section", ("id", "search-results"), ("aria-labelledby", "results-heading"))
            .Element("h2", "Specs", ("id", "results-heading"))
            .Element("p", model.SearchProblem ?? CountText(results.Total, model.Query.Offset, results.Rows.Count),
                ("id", "result-count"), ("aria-live", "polite"))
            .Open("ul", ("id", "results")).Raw("\n");
        foreach (var row in results.Rows)
        {
            ResultItem(html, links, cache, row);
        }

        html.Close("ul").Raw("\n");
        var shown = model.Query.Offset + results.Rows.Count;
        if (!settings.IsStatic && shown < results.Total)
        {
            html.Open("p", ("class", "more-results"))
                .Element("a", $"Next {Math.Min(ResultsPerPage, results.Total - shown)} results",
                    ("href", links.Cache(cache) + "?" + QueryString(model.Query, shown, model.PackagePage)),
                    ("rel", "next"))
                .Close("p").Raw("\n");
        }

        html.Close("section").Raw("\n");
    }

    /// <summary>One result: <c>li.result[data-hash]</c> with <c>a.spec-link</c> (name@version) and the short hash.
    /// </summary>
    internal static void ResultItem(HtmlOutput html, CatalogLinks links, string cache, SpecRow row)
    {
        html.Open("li", ("class", "result"), ("data-hash", row.Hash))
            .Element("a", row.Name + "@" + row.Version, ("class", "spec-link"), ("href", links.Spec(cache, row.Hash)))
            .Raw(" ").Element("code", "/" + HumanUnits.ShortHash(row.Hash), ("class", "hash"))
            .Raw(" ").Element("span", row.Architecture, ("class", "arch"))
            .Raw(" ").Element("span", row.Compiler, ("class", "compiler"));
        if (row.Variants.Length > 0)
        {
            html.Raw(" ").Element("span", row.Variants, ("class", "variants"));
        }

        html.Close("li").Raw("\n");
    }

    private static void Packages(HtmlOutput html, PageSettings settings, CatalogLinks links, CachePageModel model)
    {
        var cache = model.Summary.Name;
        var listing = model.Packages;
        var pages = Math.Max(1, (listing.Total + PackagesPerPage - 1) / PackagesPerPage);
        html.Open("section", ("id", "packages"), ("aria-labelledby", "packages-heading"))
            .Element("h2", "Packages", ("id", "packages-heading"))
            .Element("p", HumanUnits.Count(listing.Total, "package")
                + (pages > 1 ? $" · page {model.PackagePage} of {pages}" : ""), ("class", "count"))
            .Open("ul", ("class", "package-list")).Raw("\n");
        foreach (var package in listing.Packages)
        {
            html.Open("li")
                .Element("a", package.Name, ("class", "package-link"), ("href", links.Package(cache, package.Name)))
                .Raw(" ").Element("span", HumanUnits.Count(package.Specs, "spec") + " · "
                    + string.Join(", ", package.Versions.Take(5)) + (package.Versions.Count > 5 ? ", …" : ""),
                    ("class", "meta"))
                .Close("li").Raw("\n");
        }

        html.Close("ul").Raw("\n");
        if (pages > 1)
        {
            html.Open("nav", ("class", "pager"), ("aria-label", "Package pages"));
            if (model.PackagePage > 1)
            {
                html.Element("a", "Previous", ("rel", "prev"),
                    ("href", PackagePageHref(settings, links, model, model.PackagePage - 1)));
            }

            html.Element("span", $"Page {model.PackagePage} of {pages}", ("class", "page"));
            if (model.PackagePage < pages)
            {
                html.Element("a", "Next", ("rel", "next"),
                    ("href", PackagePageHref(settings, links, model, model.PackagePage + 1)));
            }

            html.Close("nav").Raw("\n");
        }

        html.Close("section").Raw("\n");
    }

    /// <summary>
    /// On a server the page itself with <c>page=N</c> (the search kept); in an export
    /// <c>CACHE/packages/N/index.html</c> (page 1 is the cache page).
    /// </summary>
    private static string PackagePageHref(PageSettings settings, CatalogLinks links, CachePageModel model, int page)
    {
        var cache = model.Summary.Name;
        if (settings.IsStatic)
        {
            return page == 1 ? links.Cache(cache)
                : links.CacheFile(cache, "packages/" + page.ToString(CultureInfo.InvariantCulture) + "/index.html");
        }

        return links.Cache(cache) + "?" + QueryString(model.Query, 0, page);
    }

    private static void Activity(HtmlOutput html, CatalogLinks links, string cache,
        IReadOnlyList<PushActivity> activity)
    {
        html.Open("section", ("id", "activity"), ("aria-labelledby", "activity-heading"))
            .Element("h2", "Recent pushes", ("id", "activity-heading"));
        if (activity.Count == 0)
        {
            html.Element("p", "No pushes yet.", ("class", "empty"));
        }
        else
        {
            html.Open("ol").Raw("\n");
            foreach (var push in activity)
            {
                html.Open("li")
                    .Element("a", push.Name + "@" + push.Version, ("class", "spec-link"),
                        ("href", links.Spec(cache, push.Hash)))
                    .Raw(" ").Element("code", "/" + HumanUnits.ShortHash(push.Hash), ("class", "hash")).Raw(" ");
                CachesPage.WriteTime(html, push.PushedAt, "");
                html.Close("li").Raw("\n");
            }

            html.Close("ol").Raw("\n");
        }

        html.Close("section").Raw("\n");
    }

    /// <summary><c>3 specs</c>, or <c>20,000 specs, 1–50 shown</c> (catalog.js writes the same).</summary>
    internal static string CountText(int total, int offset, int shown)
    {
        var text = HumanUnits.Count(total, "spec");
        if (shown < total)
        {
            text += shown == 0 ? ", none shown"
                : string.Create(CultureInfo.InvariantCulture, $", {offset + 1:#,0}–{offset + shown:#,0} shown");
        }

        return text;
    }

    /// <summary><c>q=…&amp;arch=…&amp;os=…&amp;compiler=…&amp;offset=N&amp;page=N</c>, empty parts left out.</summary>
    internal static string QueryString(CatalogQuery query, int offset, int page)
    {
        var parts = new List<string>();
        Add("q", query.Text);
        Add("arch", query.Architecture);
        Add("os", query.Os);
        Add("compiler", query.Compiler);
        Add("offset", offset > 0 ? offset.ToString(CultureInfo.InvariantCulture) : null);
        Add("page", page > 1 ? page.ToString(CultureInfo.InvariantCulture) : null);
        return string.Join('&', parts);

        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }
    }
}
