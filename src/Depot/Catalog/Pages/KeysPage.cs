namespace Depot.Catalog.Pages;

/// <summary>
/// <c>/CACHE/keys</c>: the public keys the cache publishes, what <c>spack buildcache keys</c> fetches
/// (<c>table#keys</c>, <c>tr[data-fingerprint]</c>, <c>a.key-download</c>).
/// </summary>
public static class KeysPage
{
    /// <summary>Writes the page.</summary>
    /// <param name="writer">Where the page goes.</param>
    /// <param name="settings">Live or static.</param>
    /// <param name="cache">The cache's name.</param>
    /// <param name="keys">Its keys.</param>
    /// <param name="mirrorUrl">In an export, the URL of the mirror (key files are linked there); on a server null (the
    /// server's own mirror path of the cache).</param>
    public static void Write(TextWriter writer, PageSettings settings, string cache, IReadOnlyList<CatalogKey> keys,
        string? mirrorUrl = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(keys);
        var html = new HtmlOutput(writer);
        var links = new CatalogLinks(settings);
        PageLayout.Begin(html, settings, "Keys of " + cache,
            [new Crumb(cache, links.Cache(cache)), new Crumb("Keys")], cache);
        html.Element("h1", "Signing keys of " + cache)
            .Open("p", ("class", "help"))
            .Text("Spack installs and trusts these with ")
            .Element("code", "spack buildcache keys --install --trust")
            .Text(". Trust a key only when you know whose it is.")
            .Close("p").Raw("\n");
        if (keys.Count == 0)
        {
            html.Element("p", "This cache publishes no key.", ("class", "empty"));
            PageLayout.End(html, settings);
            return;
        }

        html.Open("div", ("class", "table-wrap")).Open("table", ("id", "keys"))
            .Element("caption", HumanUnits.Count(keys.Count, "key"), ("class", "visually-hidden"))
            .Raw("<thead><tr><th scope=\"col\">Fingerprint</th><th scope=\"col\">User id</th>"
                + "<th scope=\"col\">Created</th><th scope=\"col\">Trusted here</th></tr></thead>\n<tbody>\n");
        foreach (var key in keys)
        {
            var href = mirrorUrl is null ? links.MirrorObject(cache, key.Download)
                : mirrorUrl.TrimEnd('/') + "/" + CatalogLinks.Path(key.Download);
            html.Open("tr", ("data-fingerprint", key.Fingerprint))
                .Open("td").Open("a", ("class", "key-download"), ("href", href), ("download", ""))
                .Element("code", key.Fingerprint, ("class", "fingerprint")).Close("a").Close("td")
                .Element("td", key.UserId, ("class", "user-id"))
                .Open("td", ("class", "created"));
            CachesPage.WriteTime(html, key.Created, "unknown");
            html.Close("td").Element("td", key.Trusted ? "yes" : "no", ("class", "trusted"))
                .Close("tr").Raw("\n");
        }

        html.Raw("</tbody></table></div>\n");
        PageLayout.End(html, settings);
    }
}
