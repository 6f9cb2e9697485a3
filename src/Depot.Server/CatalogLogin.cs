using Depot.Catalog.Pages;
using Depot.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Depot.Server;

/// <summary>
/// Signing in to the web catalog: <c>GET /_depot/login</c> shows the token form, <c>POST /_depot/login</c> checks the
/// token and keeps it in the <c>depot_token</c> cookie (HttpOnly, SameSite=Strict, Secure on https, Path=/), then goes
/// back to <c>next</c> (a local path only); <c>POST /_depot/logout</c> clears it. <see cref="CacheAccess"/> takes the
/// cookie on reads when no Authorization header is sent. Also who a page's visitor is (<see cref="VisitorOf"/>).
/// </summary>
internal static class CatalogLogin
{
    /// <summary>The cookie holding the token.</summary>
    public const string CookieName = "depot_token";

    private const long MaxFormBytes = 16 * 1024;

    /// <summary>What the catalog knows of a visitor: the live token sent (or none) and whether it came as the cookie.
    /// </summary>
    /// <param name="Token">The token, when a live one was sent.</param>
    /// <param name="Problem">Why a token that was sent is not accepted (unknown, revoked, expired, malformed).</param>
    public sealed record Visitor(TokenRecord? Token, string? Problem)
    {
        /// <summary>Whether the visitor may read <paramref name="cache"/>: public, or its token is for it.</summary>
        public bool MayRead(ServedCache cache) =>
            cache.Config.Public || (Token is { } t && t.Cache == cache.Name && t.Scope >= TokenScope.Read);
    }

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/_depot/login", (HttpContext http) =>
            CatalogEndpoints.PageAsync(http, StatusCodes.Status200OK, (w, s) =>
                LoginPage.Write(w, s, null, LocalPath(http.Request.Query["next"].ToString()))));
        routes.MapPost("/_depot/login", LoginAsync);
        routes.MapPost("/_depot/logout", (HttpContext http) =>
        {
            if (!SameOrigin(http))
            {
                return HttpErrors.WriteAsync(http, StatusCodes.Status403Forbidden,
                    "sign-out from another site refused", ErrorKind.Trust);
            }

            http.Response.Cookies.Delete(CookieName, CookieOptions(http));
            http.Response.Headers.CacheControl = "no-store";
            http.Response.Redirect("/", permanent: false);
            http.Response.StatusCode = StatusCodes.Status303SeeOther;
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// The visitor of a page: the token of the Authorization header or, without one, of the cookie. A dead token
    /// (unknown, revoked, expired) counts as none, with its problem said; a dead cookie is cleared in the answer, so
    /// the browser stops sending it.
    /// </summary>
    public static Visitor VisitorOf(HttpContext http)
    {
        var (presented, problem) = CacheAccess.Credential(http.Request);
        if (problem is not null)
        {
            return new Visitor(null, problem);
        }

        if (presented is null)
        {
            return new Visitor(null, null);
        }

        var check = http.RequestServices.GetRequiredService<TokenStore>().Check(presented);
        if (check is { Status: TokenStatus.Valid, Token: { } token })
        {
            http.Items[CacheAccess.TokenItem] = token.Display;
            return new Visitor(token, null);
        }

        if (http.Request.Headers.Authorization.Count == 0)
        {
            http.Response.Cookies.Delete(CookieName, CookieOptions(http));
        }

        return new Visitor(null, check.Status == TokenStatus.Expired
            ? "Your token has expired: sign in with a new one."
            : "Your token is unknown or revoked: sign in with another one.");
    }

    private static async Task LoginAsync(HttpContext http)
    {
        if (!SameOrigin(http))
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status403Forbidden, "sign-in from another site refused",
                ErrorKind.Trust).ConfigureAwait(false);
            return;
        }

        if (!http.Request.HasFormContentType || http.Request.ContentLength is null or > MaxFormBytes)
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status400BadRequest,
                "sign in with the form: a url-encoded body with field token, of at most 16 KiB", ErrorKind.Usage)
                .ConfigureAwait(false);
            return;
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        var next = LocalPath(form["next"].ToString());
        var text = form["token"].ToString().Trim();
        var check = text.Length == 0 ? null : http.RequestServices.GetRequiredService<TokenStore>().Check(text);
        if (check is not { Status: TokenStatus.Valid, Token: { } token })
        {
            var message = check?.Status == TokenStatus.Expired ? "That token has expired."
                : "That token is not one this server knows (or it was revoked).";
            await CatalogEndpoints.PageAsync(http, StatusCodes.Status401Unauthorized,
                (w, s) => LoginPage.Write(w, s, message, next)).ConfigureAwait(false);
            return;
        }

        http.Items[CacheAccess.TokenItem] = token.Display;
        http.Response.Cookies.Append(CookieName, text, CookieOptions(http));
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Redirect(next, permanent: false);
        http.Response.StatusCode = StatusCodes.Status303SeeOther;
    }

    /// <summary><paramref name="next"/> when it is a path on this site (<c>/x/?q=1</c>), else <c>/</c>: never
    /// another site (<c>//evil</c>, <c>/\evil</c>, <c>https://…</c>).</summary>
    internal static string LocalPath(string? next)
    {
        if (string.IsNullOrEmpty(next) || next[0] != '/' || next.Length > 2048)
        {
            return "/";
        }

        if (next.Length > 1 && next[1] is '/' or '\\')
        {
            return "/";
        }

        return next.Any(c => char.IsControl(c) || c == '\\') ? "/" : next;
    }

    private static CookieOptions CookieOptions(HttpContext http) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = "/",
        IsEssential = true,
    };

    /// <summary>
    /// A form post from this site: an <c>Origin</c> (or, without it, <c>Sec-Fetch-Site</c>) that says another site
    /// sent it is refused, so no page elsewhere signs a visitor in or out (the cookie's SameSite=Strict covers the
    /// rest).
    /// </summary>
    private static bool SameOrigin(HttpContext http)
    {
        var origin = http.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && origin != "null")
        {
            return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                && string.Equals(uri.Authority, http.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
        }

        var site = http.Request.Headers["Sec-Fetch-Site"].ToString();
        return site.Length == 0 || site is "same-origin" or "none";
    }
}
