namespace Depot.Catalog.Pages;

/// <summary>
/// <c>/CACHE/package/NAME</c>: the package's versions (rows, in the order the source gives them: newest first) ×
/// architecture and compiler (columns), each cell linking the specs built so (<c>table#versions</c>,
/// <c>a.spec-link</c>).
/// </summary>
public static class PackagePage
{
    /// <summary>Writes the page.</summary>
    public static void Write(TextWriter writer, PageSettings settings, string cache, PackageDetail package)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(package);
        var html = new HtmlOutput(writer);
        var links = new CatalogLinks(settings);
        PageLayout.Begin(html, settings, package.Name + " in " + cache,
            [new Crumb(cache, links.Cache(cache)), new Crumb(package.Name)], cache);
        html.Element("h1", package.Name)
            .Element("p", HumanUnits.Count(package.Specs.Count, "spec") + " in " + cache, ("class", "count"));
        var versions = package.Specs.Select(s => s.Version).Distinct(StringComparer.Ordinal).ToList();
        var columns = package.Specs.Select(s => (s.Architecture, s.Compiler)).Distinct()
            .OrderBy(c => c.Architecture, StringComparer.Ordinal).ThenBy(c => c.Compiler, StringComparer.Ordinal)
            .ToList();
        var cells = package.Specs.GroupBy(s => (s.Version, s.Architecture, s.Compiler))
            .ToDictionary(g => g.Key, g => g.OrderBy(s => s.Hash, StringComparer.Ordinal).ToList());
        html.Open("div", ("class", "table-wrap")).Open("table", ("id", "versions"))
            .Element("caption", "Specs of " + package.Name + " by version, architecture and compiler")
            .Raw("\n<thead><tr>").Element("th", "Version", ("scope", "col"));
        foreach (var (architecture, compiler) in columns)
        {
            html.Open("th", ("scope", "col"), ("data-arch", architecture), ("data-compiler", compiler))
                .Element("span", architecture, ("class", "arch")).Raw("<br>")
                .Element("span", compiler, ("class", "compiler")).Close("th");
        }

        html.Raw("</tr></thead>\n<tbody>\n");
        foreach (var version in versions)
        {
            html.Open("tr", ("data-version", version)).Element("th", version, ("scope", "row"));
            foreach (var (architecture, compiler) in columns)
            {
                html.Open("td");
                if (cells.TryGetValue((version, architecture, compiler), out var specs))
                {
                    html.Open("ul", ("class", "cell-specs"));
                    foreach (var spec in specs)
                    {
                        html.Open("li")
                            .Element("a", "/" + HumanUnits.ShortHash(spec.Hash), ("class", "spec-link"),
                                ("href", links.Spec(cache, spec.Hash)),
                                ("title", spec.Variants.Length > 0 ? spec.Variants : null))
                            .Close("li");
                    }

                    html.Close("ul");
                }

                html.Close("td");
            }

            html.Close("tr").Raw("\n");
        }

        html.Raw("</tbody></table></div>\n");
        PageLayout.End(html, settings);
    }
}
