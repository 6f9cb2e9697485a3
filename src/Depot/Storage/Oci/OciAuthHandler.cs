using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Depot.Storage.Oci;

/// <summary>
/// Registry authentication as the distribution spec has it: a request goes out with what worked before (Basic, or a
/// Bearer token cached for its scope); a <c>401</c> with <c>WWW-Authenticate</c> is answered once — Basic with the
/// credential, or Bearer by asking the token realm for the request's scope (with the credential, if any) — and the
/// request is sent again. A second 401 is an <see cref="OciAuthException"/> naming the registry, scope and credential
/// source. Tokens are cached per scope until they expire.
/// <para>
/// Credentials and tokens are bound to the registry's origin (scheme, host, port): nothing is added to a request for
/// another origin, and a 401 from another origin (a blob redirected to storage elsewhere) is never answered with them.
/// Redirects are followed by the transport, which drops the Authorization header on the way. A token realm receives
/// only the login (Basic), never a token, and only over https or on the registry's own origin.
/// </para>
/// </summary>
internal sealed partial class OciAuthHandler(OciReference reference, Lazy<OciCredential?> found,
    HttpMessageHandler tokenHandler, string? dockerConfig) : DelegatingHandler
{
    // Found on the first challenge, not before: anonymous registries never run a credential helper.
    private OciCredential? Credential => found.Value;

    private readonly Uri registry = reference.BaseUri;
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> tokens =
        new(StringComparer.Ordinal);
    private readonly HttpClient tokenClient = new(tokenHandler, disposeHandler: false)
    {
        Timeout = TimeSpan.FromSeconds(60),
    };
    private volatile Challenge? known;

    private sealed record Challenge(string Scheme, IReadOnlyDictionary<string, string> Parameters);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        var scope = ScopeOf(request);
        if (known is { } challenge)
        {
            Apply(request, challenge, scope);
        }

        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized
            || !HttpBodies.SameOrigin(response.RequestMessage?.RequestUri ?? request.RequestUri, registry))
        {
            // a 401 from elsewhere (after a redirect) is the caller's error, never a reason to send credentials
            return response;
        }

        var offered = Parse(response.Headers.WwwAuthenticate);
        if (offered is null)
        {
            return response; // not a challenge we can answer: the caller reports the 401
        }

        if (offered.Scheme == "basic" && Credential is null)
        {
            response.Dispose();
            throw new OciAuthException($"registry {reference.Registry} requires a login (Basic, scope {scope}); no "
                + "credentials found",
                ErrorHint.ConfigureRegistryLogin(reference.Registry, dockerConfig ?? "~/.docker/config.json"));
        }

        response.Dispose();
        known = offered;
        if (offered.Scheme == "bearer")
        {
            await FetchTokenAsync(offered, scope, cancellationToken).ConfigureAwait(false);
        }

        Apply(request, offered, scope);
        if (request.Content is StreamContent or ByteArrayContent or null)
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            throw new OciAuthException($"registry {reference.Registry}: challenged a request whose body cannot be sent "
                + "twice");
        }

        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            var body = await HttpBodies.ReadErrorTextAsync(response, cancellationToken).ConfigureAwait(false);
            response.Dispose();
            throw new OciAuthException($"registry {reference.Registry} refused {Who()} for scope {scope} "
                + $"({offered.Scheme}): "
                + OciRegistryException.Summarize(body));
        }

        return response;
    }

    private string Who() =>
        Credential is null ? "anonymous access" : $"user '{Credential.Username}' from {Credential.Source}";

    private void Apply(HttpRequestMessage request, Challenge challenge, string scope)
    {
        if (!HttpBodies.SameOrigin(request.RequestUri, registry))
        {
            return; // an upload Location or a redirect elsewhere: that host gets no credentials
        }

        if (challenge.Scheme == "basic" && Credential is not null)
        {
            // Basic over plain http is what the user asked for with oci+http://; it is never sent to another origin.
            request.Headers.Authorization = BasicHeader(Credential);
        }
        else if (challenge.Scheme == "bearer" && CachedToken(scope) is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    private static AuthenticationHeaderValue BasicHeader(OciCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));

    private string? CachedToken(string scope)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var candidate in new[] { scope,
            scope.EndsWith(":pull", StringComparison.Ordinal) ? scope + ",push" : null })
        {
            if (candidate is not null && tokens.TryGetValue(candidate, out var cached) && cached.Expires > now)
            {
                return cached.Token;
            }
        }

        return null;
    }

    private async Task FetchTokenAsync(Challenge challenge, string scope, CancellationToken cancellationToken)
    {
        if (!challenge.Parameters.TryGetValue("realm", out var realm)
            || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri)
            || (realmUri.Scheme != Uri.UriSchemeHttps && realmUri.Scheme != Uri.UriSchemeHttp))
        {
            throw new OciAuthException($"registry {reference.Registry}: Bearer challenge without a usable realm");
        }

        if (realmUri.Scheme != Uri.UriSchemeHttps && !HttpBodies.SameOrigin(realmUri, registry))
        {
            // Docker Hub's realm is on another host, over https; plain http is accepted only on the registry itself.
            throw new OciAuthException($"registry {reference.Registry}: token realm "
                + $"{realmUri.GetLeftPart(UriPartial.Path)} is plain http on another origin; "
                + "the login is not sent there (a realm must be https, or on the registry itself)");
        }

        var query = new StringBuilder();
        if (challenge.Parameters.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service));
        }

        var scopes = new List<string> { scope };
        if (challenge.Parameters.TryGetValue("scope", out var asked) && asked != scope)
        {
            scopes.Add(asked);
        }

        foreach (var s in scopes)
        {
            query.Append(query.Length > 0 ? "&" : "").Append("scope=").Append(Uri.EscapeDataString(s));
        }

        query.Append("&client_id=depot");
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get,
            new UriBuilder(realmUri) { Query = query.ToString() }.Uri);
        if (Credential is not null)
        {
            tokenRequest.Headers.Authorization = BasicHeader(Credential);
        }

        using var response = await tokenClient.SendAsync(tokenRequest, HttpCompletionOption.ResponseHeadersRead,
            cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var error = await HttpBodies.ReadErrorTextAsync(response, cancellationToken).ConfigureAwait(false);
            throw new OciAuthException($"registry {reference.Registry}: token service "
                + $"{realmUri.GetLeftPart(UriPartial.Path)} refused {Who()} for scope {scope}: "
                + $"{(int)response.StatusCode} "
                + $"{OciRegistryException.Summarize(error)}{HttpBodies.RetryAfterNote(response)}");
        }

        var body = await HttpBodies.ReadAsync(response, $"token service {realmUri.GetLeftPart(UriPartial.Path)}",
            HttpBodies.TokenLimit, cancellationToken).ConfigureAwait(false);
        string? token;
        var lifetime = 60;
        try
        {
            using var doc = JsonDocument.Parse(body);
            token = (doc.RootElement.TryGetProperty("token", out var t) ? t
                : doc.RootElement.GetProperty("access_token")).GetString();
            if (doc.RootElement.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds)
                && seconds > 0)
            {
                lifetime = seconds;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new OciAuthException($"registry {reference.Registry}: token service "
                + $"{realmUri.GetLeftPart(UriPartial.Path)} answered no token");
        }

        // A little early, so a token never expires on the way.
        var entry = (token ?? "", DateTimeOffset.UtcNow.AddSeconds(Math.Max(1, lifetime - 10)));
        foreach (var s in scopes)
        {
            tokens[s] = entry;
        }
    }

    /// <summary><c>repository:NAME:pull</c>, or <c>pull,push</c> for requests that change something.</summary>
    private string ScopeOf(HttpRequestMessage request)
    {
        var write = request.Method != HttpMethod.Get && request.Method != HttpMethod.Head;
        return $"repository:{reference.Repository}:{(write ? "pull,push" : "pull")}";
    }

    private static Challenge? Parse(HttpHeaderValueCollection<AuthenticationHeaderValue> headers)
    {
        Challenge? basic = null;
        foreach (var header in headers)
        {
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (Match m in ChallengeParameter().Matches(header.Parameter ?? ""))
            {
                parameters[m.Groups[1].Value] = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
            }

            switch (header.Scheme.ToLowerInvariant())
            {
                case "bearer":
                    return new Challenge("bearer", parameters);
                case "basic":
                    basic = new Challenge("basic", parameters);
                    break;
            }
        }

        return basic;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            tokenClient.Dispose();
        }

        base.Dispose(disposing);
    }

    [GeneratedRegex("([A-Za-z_]+)=(?:\"([^\"]*)\"|([^,\\s]*))")]
    private static partial Regex ChallengeParameter();
}
