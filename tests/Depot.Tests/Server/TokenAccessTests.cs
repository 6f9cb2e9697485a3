using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Depot.Cli;
using Depot.Configuration;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;
using Microsoft.Extensions.Logging;

namespace Depot.Tests.Server;

/// <summary>
/// Tokens against a real Kestrel on a free port: a private cache (<c>priv</c>) and a public one (<c>pub</c>), each
/// holding one object; every log line the server writes is kept, to look for secrets in.
/// </summary>
public sealed class TokenAccessTests : IAsyncLifetime
{
    private const string Key = "build_cache/index.json";
    private readonly TempDir dir = new();
    private readonly LogLines log = new();
    private DepotServer? server;
    private HttpClient? client;

    private TokenStore Tokens { get; set; } = null!;

    private HttpClient Client => client!;

    public async ValueTask InitializeAsync()
    {
        foreach (var cache in new[] { "priv", "pub" })
        {
            Directory.CreateDirectory(dir.Combine(cache, "build_cache"));
            await File.WriteAllTextAsync(dir.Combine(cache, Key), "{}\n");
        }

        var config = new ServeConfig(["127.0.0.1:0"], null, dir.Combine("tokens.json"), new ServeLimits(),
            [new ServedCacheConfig("priv", dir.Combine("priv")), new ServedCacheConfig("pub", dir.Combine("pub"))
                { Public = true }], null);
        Directory.CreateDirectory(dir.Combine("home"));
        var engine = new EngineContext(new DepotHome(dir.Combine("home")), ShippedStores.Providers);
        Tokens = new TokenStore(config.TokensFile);
        server = DepotServer.Create(ServedCaches.Open(engine, config), log);
        await server.StartAsync();
        client = new HttpClient { BaseAddress = server.BaseUrls[0] };
    }

    public async ValueTask DisposeAsync()
    {
        client?.Dispose();
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        dir.Dispose();
    }

    [Fact]
    public async Task APrivateCacheNeedsAToken()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var response = await Client.GetAsync(new Uri("priv/" + Key, UriKind.Relative), cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        Assert.Contains("cache priv needs a token with read scope", await response.Content.ReadAsStringAsync(cancel),
            StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "pub", null)).Status);
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("basic-password")]
    [InlineData("basic-user")]
    public async Task EveryScopeReadsWithBearerOrBasic(string how)
    {
        foreach (var scope in Enum.GetValues<TokenScope>())
        {
            var (_, text) = await Tokens.CreateAsync("priv", scope, null, null, CancellationToken.None);
            var header = how switch
            {
                "bearer" => new AuthenticationHeaderValue("Bearer", text),
                "basic-password" => Basic("spack", text),
                _ => Basic(text, ""),
            };
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
            {
                var (status, body) = await SendAsync(method, "priv", header);
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal(method == HttpMethod.Get ? "{}\n" : "", body);
            }
        }
    }

    [Fact]
    public async Task ARevokedTokenIsRefusedByTheRunningServer()
    {
        var (record, text) = await Tokens.CreateAsync("priv", TokenScope.Read, null, "gone", CancellationToken.None);
        var bearer = new AuthenticationHeaderValue("Bearer", text);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "priv", bearer)).Status);

        await new TokenStore(Tokens.Path).RevokeAsync(record.Id, CancellationToken.None);
        var refused = await RetryAsync(() => SendAsync(HttpMethod.Get, "priv", bearer),
            r => r.Status == HttpStatusCode.Unauthorized);
        Assert.Contains("unknown or revoked token", refused.Body, StringComparison.Ordinal);

        // A dead token is refused even where none is needed: its holder learns now, not at its first push.
        var (status, body) = await SendAsync(HttpMethod.Get, "pub", bearer);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("unknown or revoked token", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenMadeAfterStartWorksWithoutARestart()
    {
        var (_, text) = await new TokenStore(Tokens.Path).CreateAsync("priv", TokenScope.Read, null, null,
            CancellationToken.None);
        var ok = await RetryAsync(() => SendAsync(HttpMethod.Get, "priv", new("Bearer", text)),
            r => r.Status == HttpStatusCode.OK);
        Assert.Equal("{}\n", ok.Body);
    }

    [Fact]
    public async Task AnotherCachesTokenIsForbiddenButAPublicReadStillGoesThrough()
    {
        var (record, text) = await Tokens.CreateAsync("pub", TokenScope.Admin, null, null, CancellationToken.None);
        var bearer = new AuthenticationHeaderValue("Bearer", text);
        var (status, body) = await SendAsync(HttpMethod.Get, "priv", bearer);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains($"token {record.Id} is for cache pub, not priv", body, StringComparison.Ordinal);

        var (_, privText) = await Tokens.CreateAsync("priv", TokenScope.Read, null, null, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "pub", new("Bearer", privText))).Status);
    }

    [Theory]
    [InlineData("Digest abc")]
    [InlineData("Basic !!!")]
    [InlineData("Bearer")]
    public async Task AnUnusableAuthorizationHeaderIs401InOneLine(string header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "priv/" + Key);
        request.Headers.TryAddWithoutValidation("Authorization", header);
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Single(body.TrimEnd('\n').Split('\n'));
        Assert.Contains("\"error\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoSecretReachesTheLogsOrAnyAnswer()
    {
        var (_, good) = await Tokens.CreateAsync("pub", TokenScope.Read, null, "logged", CancellationToken.None);
        var (revoked, dead) = await Tokens.CreateAsync("priv", TokenScope.Read, null, null, CancellationToken.None);
        await Tokens.RevokeAsync(revoked.Id, CancellationToken.None);
        var bodies = new StringBuilder();
        foreach (var text in new[] { good, dead, good[..^1] + "0" })
        {
            foreach (var cache in new[] { "priv", "pub" })
            {
                bodies.Append((await SendAsync(HttpMethod.Get, cache, new("Bearer", text))).Body);
                bodies.Append((await SendAsync(HttpMethod.Get, cache, Basic("u", text))).Body);
            }
        }

        Assert.NotEmpty(log.Lines);
        foreach (var secret in new[] { good, dead }.Select(t => t[^64..]))
        {
            Assert.DoesNotContain(log.Lines, l => l.Contains(secret[..16], StringComparison.Ordinal));
            Assert.DoesNotContain(secret[..16], bodies.ToString(), StringComparison.Ordinal);
        }
    }

    internal static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task<(HttpStatusCode Status, string Body)> RetryAsync(
        Func<Task<(HttpStatusCode Status, string Body)>> send, Func<(HttpStatusCode Status, string Body), bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            var result = await send();
            if (done(result) || DateTime.UtcNow > deadline)
            {
                return result;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string cache,
        AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(method, $"{cache}/{Key}");
        request.Headers.Authorization = authorization;
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode,
            await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>Every line the server logs, at every level.</summary>
    private sealed class LogLines : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LogLines sink, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
                Func<TState, Exception?, string> formatter) =>
                sink.Lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}
