using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Depot.Server;

/// <summary>
/// Read URLs that carry their token: <c>/_t/TOKEN/CACHE/…</c> is <c>/CACHE/…</c> with
/// <c>Authorization: Bearer TOKEN</c>.
/// Spack 1.2 and 0.21 send no credentials to an http(s) mirror (urllib has no auth handler and reads no .netrc), so
/// this is the one way real Spack reads a private cache: <c>spack mirror add NAME https://host/_t/TOKEN/CACHE/</c>.
/// GET and HEAD only; the path is rewritten before anything logs it, so the token is never in the request log.
/// </summary>
internal static class TokenInPath
{
    private const string Prefix = "/_t/";

    /// <summary>Adds the rewrite; must run before routing and before the request log reads the path.</summary>
    public static void Use(WebApplication app) => app.Use(async (http, next) =>
    {
        var path = http.Request.Path.Value ?? "";
        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            await next(http).ConfigureAwait(false);
            return;
        }

        var rest = path[Prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var token = slash < 0 ? rest : rest[..slash];
        http.Request.Path = slash < 0 ? "/" : rest[slash..];
        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status405MethodNotAllowed,
                "a URL that carries its token is for reading (GET, HEAD); send the token as Authorization to write",
                ErrorKind.Unsupported).ConfigureAwait(false);
            return;
        }

        if (token.Length > 0)
        {
            http.Request.Headers.Authorization = "Bearer " + token;
        }

        await next(http).ConfigureAwait(false);
    });
}
