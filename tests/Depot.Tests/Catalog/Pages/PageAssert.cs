using System.Text.RegularExpressions;

namespace Depot.Tests.Catalog.Pages;

/// <summary>Renders a page to a string, and checks what every page of the contract has.</summary>
internal static partial class PageAssert
{
    public static string Render(Action<TextWriter> write)
    {
        using var writer = new StringWriter();
        write(writer);
        return writer.ToString();
    }

    /// <summary>
    /// Doctype, language, viewport, color scheme, skip link to #main, header with the site name, breadcrumb, one main
    /// with one h1, the body's mode — and nothing inline the Content-Security-Policy would block.
    /// </summary>
    public static void FollowsTheContract(string html, string mode)
    {
        Assert.StartsWith("<!doctype html>\n<html lang=\"en\">", html, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", html,
            StringComparison.Ordinal);
        Assert.Contains("<meta name=\"color-scheme\" content=\"light dark\">", html, StringComparison.Ordinal);
        Assert.Matches("<a class=\"skip-link\" href=\"#main\">Skip to content</a>", html);
        Assert.Matches("<header[^>]*>\\s*<a class=\"site-name\" href=\"[^\"]+\">Depot</a>", html);
        Assert.Contains("<nav aria-label=\"Breadcrumb\">", html, StringComparison.Ordinal);
        Assert.Single(Regex.Matches(html, "<main id=\"main\">"));
        Assert.Single(Regex.Matches(html, "<h1[ >]"));
        Assert.Matches($"<body data-mode=\"{mode}\" data-root=\"[^\"]+\"", html);
        Assert.Contains("</html>\n", html, StringComparison.Ordinal);

        // Content-Security-Policy: default-src 'self'; style-src 'self'; script-src 'self' — nothing inline.
        Assert.DoesNotMatch("<script(?![^>]*\\bsrc=)[^>]*>", html);
        Assert.DoesNotContain("<style", html, StringComparison.Ordinal);
        Assert.DoesNotMatch("\\sstyle=", html);
        Assert.DoesNotMatch("\\son[a-z]+=", html);
        Assert.DoesNotContain("javascript:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html); // no CDN: every asset from the site itself
    }

    /// <summary>The values of attribute <paramref name="name"/> on elements matching <paramref name="tagStart"/>.
    /// </summary>
    public static List<string> Attributes(string html, string tagStart, string name) =>
        Regex.Matches(html, Regex.Escape(tagStart) + "[^>]*?\\s" + name + "=\"([^\"]*)\"")
            .Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
}
