namespace Depot.Catalog.Pages;

/// <summary>
/// <c>/</c>: the caches this visitor may see (the host filters them), one row each — specs, packages, size, last push
/// and whether it is public (<c>table#caches</c>, <c>tr[data-cache]</c>, <c>a.cache-link</c>, <c>.visibility</c>).
/// </summary>
public static class CachesPage
{
    /// <summary>Writes the page.</summary>
    public static void Write(TextWriter writer, PageSettings settings, IReadOnlyList<CacheSummary> caches)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(caches);
        var html = new HtmlOutput(writer);
        var links = new CatalogLinks(settings);
        PageLayout.Begin(html, settings, "Caches", [], null);
        html.Element("h1", "Build caches");
        if (caches.Count == 0)
        {
            html.Open("p", ("class", "empty")).Text("No cache to show here.");
            if (!settings.IsStatic && !settings.SignedIn)
            {
                html.Text(" Private caches appear after you ").Element("a", "sign in", ("href", links.Login("/")))
                    .Text(".");
            }

            html.Close("p");
            PageLayout.End(html, settings);
            return;
        }

        html.Open("div", ("class", "table-wrap")).Open("table", ("id", "caches"))
            .Element("caption", HumanUnits.Count(caches.Count, "cache"), ("class", "visually-hidden"))
            .Raw("<thead><tr><th scope=\"col\">Cache</th><th scope=\"col\" class=\"num\">Specs</th>"
                + "<th scope=\"col\" class=\"num\">Packages</th><th scope=\"col\" class=\"num\">Size</th>"
                + "<th scope=\"col\">Last push</th><th scope=\"col\">Visibility</th></tr></thead>\n<tbody>\n");
        foreach (var cache in caches)
        {
            html.Open("tr", ("data-cache", cache.Name))
                .Open("th", ("scope", "row"))
                .Element("a", cache.Name, ("class", "cache-link"), ("href", links.Cache(cache.Name)))
                .Close("th")
                .Element("td", cache.Specs.ToString("#,0", System.Globalization.CultureInfo.InvariantCulture),
                    ("class", "num specs"))
                .Element("td", cache.Packages.ToString("#,0", System.Globalization.CultureInfo.InvariantCulture),
                    ("class", "num packages"));
            html.Open("td", ("class", "num size"));
            if (cache.TotalBytes is { } bytes)
            {
                html.Element("span", HumanUnits.Size(bytes), ("title", HumanUnits.Bytes(bytes)));
            }
            else
            {
                html.Text("unknown");
            }

            html.Close("td").Open("td", ("class", "last-push"));
            WriteTime(html, cache.LastPush, "never");
            html.Close("td")
                .Element("td", cache.Public ? "public" : "private", ("class", "visibility"))
                .Close("tr").Raw("\n");
        }

        html.Raw("</tbody></table></div>\n");
        PageLayout.End(html, settings);
    }

    /// <summary>A <c>&lt;time&gt;</c> with the ISO value, or <paramref name="none"/> as text.</summary>
    internal static void WriteTime(HtmlOutput html, DateTimeOffset? time, string none, string? id = null)
    {
        if (time is { } t)
        {
            html.Element("time", HumanUnits.Time(t), ("id", id), ("datetime", HumanUnits.Iso(t)));
        }
        else
        {
            html.Element("span", none, ("id", id));
        }
    }
}
