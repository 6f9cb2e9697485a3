using System.Net;
using Depot.Tests.Catalog.Pages;

namespace Depot.Tests.Server;

/// <summary>
/// Signing in to the web catalog: the token form sets the <c>depot_token</c> cookie, which the pages, the API and the
/// mirror paths read like the header (which wins); bad tokens, other sites and foreign redirects are refused.
/// </summary>
public sealed class CatalogLoginTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheCookieFromTheLoginFormOpensThePrivateCache()
    {
        await using var server = await CatalogPageServer.StartAsync();
        var token = await server.TokenAsync("team");

        var login = await PostAsync(server, "/_depot/login", ("token", token), ("next", "/team/?q=zlib"));

        Assert.Equal(HttpStatusCode.SeeOther, login.StatusCode);
        Assert.Equal("/team/?q=zlib", login.Headers.Location!.OriginalString);
        var cookie = login.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith("depot_token=" + token + "; path=/;", cookie, StringComparison.Ordinal);
        Assert.Contains("samesite=strict", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain("secure", cookie, StringComparison.Ordinal); // plain http here

        var (page, body) = await server.GetAsync("/team/?q=zlib", cookie: token);
        var (root, rootBody) = await server.GetAsync("/", cookie: token);
        var (mirror, _) = await server.GetAsync("/team/v3/layout.json", cookie: token);
        var spec = await server.GetAsync("/team/spec/" + server.Team.Rows[0].Hash, cookie: token);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(3, PageAssert.Attributes(body, "<li class=\"result\"", "data-hash").Count);
        Assert.Contains("Sign out", body, StringComparison.Ordinal);
        Assert.Equal(["main", "team"], PageAssert.Attributes(rootBody, "<tr", "data-cache"));
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal(HttpStatusCode.OK, mirror.StatusCode);
        Assert.Equal(HttpStatusCode.OK, spec.Response.StatusCode);
        Assert.Contains($"{server.Client.BaseAddress}team/", spec.Body, StringComparison.Ordinal);
        foreach (var shown in new[] { body, rootBody, spec.Body })
        {
            Assert.DoesNotContain(token, shown, StringComparison.Ordinal); // never in a page, a command or a URL
        }
    }

    [Fact]
    public async Task TheHeaderWinsOverTheCookie()
    {
        await using var server = await CatalogPageServer.StartAsync();
        var team = await server.TokenAsync("team");
        var main = await server.TokenAsync("main");

        var (page, _) = await server.GetAsync("/team/", cookie: team, bearer: main);

        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
    }

    [Fact]
    public async Task ABadTokenIsRefusedWithTheLoginPageAndNoCookie()
    {
        await using var server = await CatalogPageServer.StartAsync();

        var login = await PostAsync(server, "/_depot/login", ("token", "dpt_nothing"), ("next", "/team/"));
        var body = await login.Content.ReadAsStringAsync(Token);

        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.False(login.Headers.Contains("Set-Cookie"));
        Assert.Contains("<p id=\"login-message\">That token is not one this server knows (or it was revoked).</p>",
            body, StringComparison.Ordinal);
        Assert.Contains("<input type=\"hidden\" name=\"next\" value=\"/team/\">", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARevokedCookieIsClearedAndPublicPagesStillShow()
    {
        await using var server = await CatalogPageServer.StartAsync();

        var (page, body) = await server.GetAsync("/main/", cookie: "dpt_revoked");
        var (hidden, hiddenBody) = await server.GetAsync("/team/", cookie: "dpt_revoked");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Sign in", body, StringComparison.Ordinal);
        Assert.Contains("expires=Thu, 01 Jan 1970", page.Headers.GetValues("Set-Cookie").Single(),
            StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, hidden.StatusCode);
        Assert.Contains("Your token is unknown or revoked", hiddenBody, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("")]
    public async Task SignInOnlyGoesBackToAPathOfThisSite(string next)
    {
        await using var server = await CatalogPageServer.StartAsync();
        var token = await server.TokenAsync("main");

        var login = await PostAsync(server, "/_depot/login", ("token", token), ("next", next));

        Assert.Equal(HttpStatusCode.SeeOther, login.StatusCode);
        Assert.Equal("/", login.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task AFormPostedFromAnotherSiteIsRefused()
    {
        await using var server = await CatalogPageServer.StartAsync();
        var token = await server.TokenAsync("main");

        var login = await PostAsync(server, "/_depot/login", [("token", token)], origin: "https://evil.example");
        var logout = await PostAsync(server, "/_depot/logout", [], origin: "https://evil.example");

        Assert.Equal(HttpStatusCode.Forbidden, login.StatusCode);
        Assert.False(login.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.Forbidden, logout.StatusCode);
    }

    [Fact]
    public async Task SigningOutClearsTheCookie()
    {
        await using var server = await CatalogPageServer.StartAsync();

        var logout = await PostAsync(server, "/_depot/logout", [], origin: server.Client.BaseAddress!
            .GetLeftPart(UriPartial.Authority));

        Assert.Equal(HttpStatusCode.SeeOther, logout.StatusCode);
        Assert.Equal("/", logout.Headers.Location!.OriginalString);
        Assert.StartsWith("depot_token=; expires=Thu, 01 Jan 1970", logout.Headers.GetValues("Set-Cookie").Single(),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", null, "from-cookie")]
    [InlineData("HEAD", null, "from-cookie")]
    [InlineData("GET", "Bearer from-header", "from-header")]
    [InlineData("POST", null, null)]
    [InlineData("PUT", null, null)]
    public void TheCookieIsACredentialForReadsOnlyAndTheHeaderWins(string method, string? header, string? expected)
    {
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Request.Method = method;
        http.Request.Headers.Cookie = "depot_token=from-cookie";
        if (header is not null)
        {
            http.Request.Headers.Authorization = header;
        }

        var (token, problem) = Depot.Server.CacheAccess.Credential(http.Request);

        Assert.Null(problem);
        Assert.Equal(expected, token);
    }

    private static Task<HttpResponseMessage> PostAsync(CatalogPageServer server, string path,
        params (string Name, string Value)[] fields) => PostAsync(server, path, fields, null);

    private static async Task<HttpResponseMessage> PostAsync(CatalogPageServer server, string path,
        (string Name, string Value)[] fields, string? origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))),
        };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return await server.Client.SendAsync(request, Token);
    }
}
