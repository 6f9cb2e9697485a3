namespace Depot.Catalog.Pages;

/// <summary>
/// Where the pages live and who looks at them: served live by <c>depot serve</c> (links from <c>/</c>, search through
/// the JSON API, a sign-in link), or written by the static export (links relative to each page's folder, search over
/// the exported <c>search.json</c>, no sign-in).
/// </summary>
public sealed record PageSettings
{
    private PageSettings(string root, bool isStatic, bool signedIn, string? requestPath)
    {
        Root = root;
        IsStatic = isStatic;
        SignedIn = signedIn;
        RequestPath = requestPath;
    }

    /// <summary>The prefix every link starts with: <c>/</c> on a server, <c>../../</c> (as deep as the page) in an
    /// export.</summary>
    public string Root { get; }

    /// <summary>True in a static export.</summary>
    public bool IsStatic { get; }

    /// <summary>Whether the visitor sent a token (the header shows "Sign out" instead of "Sign in").</summary>
    public bool SignedIn { get; }

    /// <summary>The page's own path and query on the server (where signing in comes back to); null in an export.
    /// </summary>
    public string? RequestPath { get; }

    /// <summary>The name in the page header.</summary>
    public string SiteName { get; init; } = "Depot";

    /// <summary>Pages on a server: links from <c>/</c>.</summary>
    public static PageSettings Live(bool signedIn, string requestPath) => new("/", false, signedIn, requestPath);

    /// <summary>A page of a static export <paramref name="depth"/> folders below the export's root.</summary>
    public static PageSettings Static(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        return new PageSettings(depth == 0 ? "./" : string.Concat(Enumerable.Repeat("../", depth)), true, false,
            null);
    }

    /// <summary>The same settings for a page <paramref name="depth"/> folders below an export's root.</summary>
    public PageSettings AtDepth(int depth) => IsStatic ? Static(depth) with { SiteName = SiteName } : this;
}
