using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Depot.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Depot.Server;

/// <summary>
/// Whether a request may do what it asks on a cache. The token comes as <c>Authorization: Bearer TOKEN</c> or as
/// Basic credentials (what Spack's fetcher and curl's <c>.netrc</c> send): any user name with the token as the
/// password, or the token as the user name with an empty password (<c>curl -u TOKEN:</c>); a browser signed in to the
/// web catalog sends it as the <c>depot_token</c> cookie (reads only). The rules:
/// <list type="bullet">
/// <item>no token: a public cache may be read; anything else is 401;</item>
/// <item>a token that is not one (unknown, revoked, expired, malformed header): 401, even where no token is needed —
/// a client sending a dead token learns it now, not at its first push;</item>
/// <item>a live token for another cache, or of a lower scope than the request needs: 403 (a public read still goes
/// through: it needs no token);</item>
/// </list>
/// A refusal is answered here (401 with WWW-Authenticate, or 403; one line naming the token's public id, never its
/// text) and the caller stops. An accepted token's id and name go in <c>HttpContext.Items["depot.token"]</c> for the
/// request log.
/// </summary>
internal static class CacheAccess
{
    /// <summary>Where an accepted token's id and name (never the secret) are left for the request log.</summary>
    public const string TokenItem = "depot.token";

    private const string Challenge = "Bearer realm=\"depot\", Basic realm=\"depot\", charset=\"UTF-8\"";

    /// <summary>True when the request may go on; otherwise the refusal has been written.</summary>
    public static async Task<bool> AllowAsync(HttpContext http, ServedCache cache, TokenScope scope)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(cache);
        var anonymous = scope == TokenScope.Read && cache.Config.Public;
        var (presented, problem) = Credential(http.Request);
        if (problem is not null)
        {
            return await RefuseAsync(http, StatusCodes.Status401Unauthorized, problem).ConfigureAwait(false);
        }

        if (presented is null)
        {
            return anonymous || await RefuseAsync(http, StatusCodes.Status401Unauthorized,
                $"cache {cache.Name} needs a token with {scope.Name()} scope").ConfigureAwait(false);
        }

        var check = http.RequestServices.GetRequiredService<TokenStore>().Check(presented);
        var token = check.Token;
        switch (check.Status)
        {
            case TokenStatus.Unknown:
                return await RefuseAsync(http, StatusCodes.Status401Unauthorized, "unknown or revoked token")
                    .ConfigureAwait(false);
            case TokenStatus.Expired:
                return await RefuseAsync(http, StatusCodes.Status401Unauthorized, $"token {token!.Id} expired on "
                    + token.Expires!.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))
                    .ConfigureAwait(false);
            default:
                break;
        }

        http.Items[TokenItem] = token!.Display;
        if (anonymous)
        {
            return true;
        }

        if (token.Cache != cache.Name)
        {
            return await RefuseAsync(http, StatusCodes.Status403Forbidden,
                $"token {token.Id} is for cache {token.Cache}, not {cache.Name}").ConfigureAwait(false);
        }

        return token.Scope >= scope || await RefuseAsync(http, StatusCodes.Status403Forbidden,
            $"token {token.Id} has {token.Scope.Name()} scope on cache {cache.Name}; this needs {scope.Name()}")
            .ConfigureAwait(false);
    }

    /// <summary>
    /// The token a request carries (null: none), or why its Authorization header is unusable. Without the header, a
    /// read (GET, HEAD) may carry it in the web catalog's <c>depot_token</c> cookie (<see cref="CatalogLogin"/>); the
    /// header wins, and a write never takes the cookie (a browser's cookie is for browsing).
    /// </summary>
    internal static (string? Token, string? Problem) Credential(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count == 0)
        {
            return (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                && request.Cookies.TryGetValue(CatalogLogin.CookieName, out var cookie) && cookie.Length > 0
                ? (cookie, null) : (null, null);
        }

        if (header.Count > 1 || !AuthenticationHeaderValue.TryParse(header[0], out var value))
        {
            return (null, "unreadable Authorization header (send Bearer TOKEN, or Basic with the token as password)");
        }

        if (value.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return string.IsNullOrWhiteSpace(value.Parameter) ? (null, "empty Bearer token")
                : (value.Parameter.Trim(), null);
        }

        if (!value.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"unsupported Authorization scheme {value.Scheme} (send Bearer TOKEN, or Basic)");
        }

        string pair;
        try
        {
            pair = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter ?? ""));
        }
        catch (FormatException)
        {
            return (null, "Basic credentials are not base64");
        }

        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        var (user, password) = colon < 0 ? (pair, "") : (pair[..colon], pair[(colon + 1)..]);
        var token = password.Length > 0 ? password : user;
        return token.Length == 0 ? (null, "empty Basic credentials") : (token, null);
    }

    private static async Task<bool> RefuseAsync(HttpContext http, int status, string reason)
    {
        if (status == StatusCodes.Status401Unauthorized)
        {
            http.Response.Headers.WWWAuthenticate = Challenge;
        }

        await HttpErrors.WriteAsync(http, status, reason,
            status == StatusCodes.Status401Unauthorized ? ErrorKind.Authentication : ErrorKind.Trust)
            .ConfigureAwait(false);
        return false;
    }
}
