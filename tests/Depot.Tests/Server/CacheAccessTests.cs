using Depot.Cli;
using Depot.Configuration;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Depot.Tests.Server;

/// <summary>
/// <see cref="CacheAccess"/> on its own, for what no route serves yet: every token scope against every scope a
/// request may need (push and admin routes call the same check), expired tokens, and what is kept for the log.
/// </summary>
public sealed class CacheAccessTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly Depot.Tests.Serving.ManualClock clock = new();
    private readonly TokenStore tokens;
    private readonly ServedCaches caches;

    public CacheAccessTests()
    {
        Directory.CreateDirectory(dir.Combine("m"));
        Directory.CreateDirectory(dir.Combine("home"));
        var config = new ServeConfig(["127.0.0.1:0"], null, dir.Combine("tokens.json"), new ServeLimits(),
            [new ServedCacheConfig("priv", dir.Combine("m")), new ServedCacheConfig("pub", dir.Combine("m"))
                { Public = true }], null);
        caches = ServedCaches.Open(new EngineContext(new DepotHome(dir.Combine("home")), ShippedStores.Providers),
            config);
        tokens = new TokenStore(config.TokensFile, clock);
    }

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData(TokenScope.Read, TokenScope.Read, true)]
    [InlineData(TokenScope.Read, TokenScope.Push, false)]
    [InlineData(TokenScope.Read, TokenScope.Admin, false)]
    [InlineData(TokenScope.Push, TokenScope.Read, true)]
    [InlineData(TokenScope.Push, TokenScope.Push, true)]
    [InlineData(TokenScope.Push, TokenScope.Admin, false)]
    [InlineData(TokenScope.Admin, TokenScope.Read, true)]
    [InlineData(TokenScope.Admin, TokenScope.Push, true)]
    [InlineData(TokenScope.Admin, TokenScope.Admin, true)]
    public async Task AScopeIncludesTheOnesBelowIt(TokenScope held, TokenScope needed, bool allowed)
    {
        foreach (var cache in new[] { "priv", "pub" })
        {
            var (record, text) = await tokens.CreateAsync(cache, held, null, "label", CancellationToken.None);
            var (ok, status, body, http) = await CheckAsync(cache, needed, "Bearer " + text);
            Assert.Equal(allowed, ok);
            Assert.Equal(allowed ? 200 : 403, status);
            Assert.Equal($"{record.Id} (label)", http.Items[CacheAccess.TokenItem]);
            if (!allowed)
            {
                Assert.Contains($"token {record.Id} has {held.Name()} scope on cache {cache}; this needs "
                    + needed.Name(), body, StringComparison.Ordinal);
                Assert.DoesNotContain(text, body, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(TokenScope.Read, "priv", false)]
    [InlineData(TokenScope.Read, "pub", true)]
    [InlineData(TokenScope.Push, "pub", false)]
    [InlineData(TokenScope.Admin, "pub", false)]
    public async Task WithoutATokenOnlyAPublicReadGoesThrough(TokenScope needed, string cache, bool allowed)
    {
        var (ok, status, body, http) = await CheckAsync(cache, needed, null);
        Assert.Equal(allowed, ok);
        Assert.Equal(allowed ? 200 : 401, status);
        Assert.Equal(!allowed, http.Response.Headers.WWWAuthenticate.Count > 0);
        Assert.Equal(allowed ? "" : $"cache {cache} needs a token with {needed.Name()} scope",
            allowed ? "" : System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AnExpiredTokenIs401WithItsDate()
    {
        var (record, text) = await tokens.CreateAsync("priv", TokenScope.Admin, TimeSpan.FromHours(12), null,
            CancellationToken.None);
        clock.Now = clock.Now.AddHours(13);
        foreach (var cache in new[] { "priv", "pub" })
        {
            var (ok, status, body, http) = await CheckAsync(cache, TokenScope.Read,
                "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("x:" + text)));
            Assert.False(ok);
            Assert.Equal(401, status);
            Assert.Contains($"token {record.Id} expired on 2026-12-06 21:00 UTC", body, StringComparison.Ordinal);
            Assert.False(http.Items.ContainsKey(CacheAccess.TokenItem));
        }
    }

    private async Task<(bool Ok, int Status, string Body, HttpContext Http)> CheckAsync(string cache,
        TokenScope needed, string? authorization)
    {
        var http = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddSingleton(tokens).BuildServiceProvider(),
        };
        http.Request.Method = HttpMethods.Get;
        http.Response.Body = new MemoryStream();
        if (authorization is not null)
        {
            http.Request.Headers.Authorization = authorization;
        }

        var ok = await CacheAccess.AllowAsync(http, caches.Find(cache)!, needed);
        return (ok, http.Response.StatusCode,
            System.Text.Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray()), http);
    }
}
