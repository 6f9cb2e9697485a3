namespace Depot.Catalog.Pages;

/// <summary>
/// <c>/_depot/login</c>, and the answer (401) to a page of a cache the visitor may not see: one token field
/// (<c>form#login</c>, posted to <c>/_depot/login</c>, which sets the <c>depot_token</c> cookie) and a message
/// (<c>p#login-message</c>). The same page, word for word, for a cache that does not exist and one that is private.
/// </summary>
public static class LoginPage
{
    /// <summary>The message for a cache the visitor may not see, whether or not it exists.</summary>
    public static string NoSuchCache(string name) =>
        $"No public cache named {name} here; if it is private, sign in with a token.";

    /// <summary>Writes the page.</summary>
    /// <param name="writer">Where the page goes.</param>
    /// <param name="settings">Live settings (an export has no sign-in).</param>
    /// <param name="message">What to tell the visitor (null: how to sign in).</param>
    /// <param name="next">The local path to come back to after signing in.</param>
    public static void Write(TextWriter writer, PageSettings settings, string? message, string next)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var html = new HtmlOutput(writer);
        var links = new CatalogLinks(settings);
        PageLayout.Begin(html, settings, "Sign in", [new Crumb("Sign in")], null);
        html.Element("h1", "Sign in")
            .Element("p", message ?? "Private caches need a token with read scope on them (depot serve token create).",
                ("id", "login-message"))
            .Open("form", ("id", "login"), ("method", "post"), ("action", links.LoginAction)).Raw("\n")
            .Element("label", "Token", ("for", "token"))
            .Void("input", ("id", "token"), ("type", "password"), ("name", "token"), ("required", ""),
                ("autocomplete", "current-password"), ("spellcheck", "false"))
            .Void("input", ("type", "hidden"), ("name", "next"), ("value", next))
            .Element("button", "Sign in", ("type", "submit"))
            .Close("form").Raw("\n")
            .Element("p", "The token is kept in a cookie for this site only (HttpOnly, SameSite=Strict) until you sign "
                + "out or close the browser.", ("class", "help"));
        PageLayout.End(html, settings);
    }
}
