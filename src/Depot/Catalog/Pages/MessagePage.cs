namespace Depot.Catalog.Pages;

/// <summary>A page that only says something: a spec or package that is not there, a store that does not answer.
/// </summary>
public static class MessagePage
{
    /// <summary>Writes the page: <paramref name="title"/> as its heading, <paramref name="message"/> below.</summary>
    /// <param name="writer">Where the page goes.</param>
    /// <param name="settings">Live or static.</param>
    /// <param name="title">The heading.</param>
    /// <param name="message">One line saying what happened.</param>
    /// <param name="cache">The cache the page was asked of (a link back to it), or null.</param>
    public static void Write(TextWriter writer, PageSettings settings, string title, string message, string? cache)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var html = new HtmlOutput(writer);
        var links = new CatalogLinks(settings);
        IReadOnlyList<Crumb> crumbs = cache is null ? [new Crumb(title)]
            : [new Crumb(cache, links.Cache(cache)), new Crumb(title)];
        PageLayout.Begin(html, settings, title, crumbs, null);
        html.Element("h1", title).Element("p", message, ("id", "message"));
        if (cache is not null)
        {
            html.Open("p").Element("a", "Back to " + cache, ("href", links.Cache(cache))).Close("p");
        }

        PageLayout.End(html, settings);
    }
}
