namespace Depot.Catalog.Pages;

/// <summary>A step of the breadcrumb trail; the last one (the page itself) has no link.</summary>
internal readonly record struct Crumb(string Text, string? Href = null);

/// <summary>
/// What every page shares: the document head (the one stylesheet and script, no inline code: the server's
/// Content-Security-Policy forbids it), the skip link, the header with the site name and the breadcrumb trail, the
/// <c>main</c> element the page fills, and the footer.
/// </summary>
internal static class PageLayout
{
    /// <summary>Writes everything up to the opening <c>&lt;main&gt;</c>; the page writes its one <c>h1</c>.</summary>
    /// <param name="html">Where the page goes.</param>
    /// <param name="settings">Live or static, and the link root.</param>
    /// <param name="title">The document title (the site name is appended).</param>
    /// <param name="crumbs">The trail after the caches' page.</param>
    /// <param name="cache">The cache the page belongs to (its API on a server), or null.</param>
    public static void Begin(HtmlOutput html, PageSettings settings, string title, IReadOnlyList<Crumb> crumbs,
        string? cache)
    {
        var links = new CatalogLinks(settings);
        html.Raw("<!doctype html>\n").Open("html", ("lang", "en")).Raw("\n<head>\n")
            .Void("meta", ("charset", "utf-8")).Raw("\n")
            .Void("meta", ("name", "viewport"), ("content", "width=device-width, initial-scale=1")).Raw("\n")
            .Void("meta", ("name", "color-scheme"), ("content", "light dark")).Raw("\n")
            .Void("meta", ("name", "referrer"), ("content", "same-origin")).Raw("\n")
            .Element("title", title + " · " + settings.SiteName).Raw("\n")
            // No favicon request: /favicon.ico would be a cache name to the server (a 401 sign-in page).
            .Void("link", ("rel", "icon"), ("href", "data:,")).Raw("\n")
            .Void("link", ("rel", "stylesheet"), ("href", links.Asset(CatalogAssets.Css.Name))).Raw("\n")
            .Open("script", ("src", links.Asset(CatalogAssets.Script.Name)), ("defer", "")).Close("script")
            .Raw("\n</head>\n");
        html.Open("body", ("data-mode", settings.IsStatic ? "static" : "live"), ("data-root", settings.Root),
                ("data-api", settings.IsStatic || cache is null ? null : links.Api(cache)))
            .Raw("\n").Element("a", "Skip to content", ("class", "skip-link"), ("href", "#main")).Raw("\n");
        html.Open("header", ("class", "site-header")).Raw("\n")
            .Element("a", settings.SiteName, ("class", "site-name"), ("href", links.Home)).Raw("\n");
        Breadcrumbs(html, links, crumbs);
        Account(html, settings, links);
        html.Close("header").Raw("\n").Open("main", ("id", "main")).Raw("\n");
    }

    /// <summary>Closes <c>main</c> and writes the footer.</summary>
    public static void End(HtmlOutput html, PageSettings settings)
    {
        html.Close("main").Raw("\n").Open("footer", ("class", "site-footer"))
            .Text(settings.IsStatic
                ? "A static copy of the catalog, written by depot catalog."
                : "Served by depot serve.")
            .Close("footer").Raw("\n</body>\n</html>\n");
    }

    private static void Breadcrumbs(HtmlOutput html, CatalogLinks links, IReadOnlyList<Crumb> crumbs)
    {
        html.Open("nav", ("aria-label", "Breadcrumb")).Open("ol");
        var all = new List<Crumb>(crumbs.Count + 1) { new("Caches", crumbs.Count == 0 ? null : links.Home) };
        all.AddRange(crumbs);
        for (var i = 0; i < all.Count; i++)
        {
            var crumb = all[i];
            html.Open("li");
            if (i == all.Count - 1 || crumb.Href is null)
            {
                html.Element("span", crumb.Text, ("aria-current", i == all.Count - 1 ? "page" : null));
            }
            else
            {
                html.Element("a", crumb.Text, ("href", crumb.Href));
            }

            html.Close("li");
        }

        html.Close("ol").Close("nav").Raw("\n");
    }

    private static void Account(HtmlOutput html, PageSettings settings, CatalogLinks links)
    {
        if (settings.IsStatic)
        {
            return;
        }

        html.Open("div", ("class", "account"));
        if (settings.SignedIn)
        {
            html.Open("form", ("method", "post"), ("action", links.Logout))
                .Element("button", "Sign out", ("type", "submit"), ("class", "link-button"))
                .Close("form");
        }
        else
        {
            html.Element("a", "Sign in", ("href", links.Login(settings.RequestPath)));
        }

        html.Close("div").Raw("\n");
    }
}
