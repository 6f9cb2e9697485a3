using Depot.Serving;
using Microsoft.AspNetCore.Http;

namespace Depot.Server;

/// <summary>
/// Whether a request may do what it asks on a cache: a public cache is readable by anyone; everything else needs a
/// token of a sufficient scope. A refusal is answered here (401 or 403, one line) and the caller stops.
/// </summary>
internal static class CacheAccess
{
    /// <summary>True when the request may go on; otherwise the refusal has been written.</summary>
    public static async Task<bool> AllowAsync(HttpContext http, ServedCache cache, TokenScope scope)
    {
        if (scope == TokenScope.Read && cache.Config.Public)
        {
            return true;
        }

        http.Response.Headers.WWWAuthenticate = $"Bearer realm=\"depot\", Basic realm=\"depot\"";
        await HttpErrors.WriteAsync(http, StatusCodes.Status401Unauthorized,
            $"cache {cache.Name} needs a token with {scope.ToString().ToLowerInvariant()} scope",
            ErrorKind.Authentication).ConfigureAwait(false);
        return false;
    }
}
