using System.Net;
using Depot.Configuration;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;
using Depot.Storage.Providers;

namespace Depot.Tests.Server;

/// <summary>
/// <c>/_t/TOKEN/CACHE/…</c>: how real Spack (which sends no credentials to http mirrors) reads a private cache. The
/// token counts as if sent as Bearer, only for reading, and never reaches the request log.
/// </summary>
public class TokenInPathTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task APrivateCacheIsReadThroughAUrlCarryingAReadTokenAndTheLogNeverShowsIt()
    {
        using var home = new TempDir();
        var file = home.Combine("tokens.json");
        var tokens = new TokenStore(file);
        var cache = new ServedCacheConfig("priv", TestData.Path("spack-1.2/mirror-signed"));
        var config = new ServeConfig(["127.0.0.1:0"], null, file, new ServeLimits(), [cache], null);
        var engine = new EngineContext(new DepotHome(home.Path), StoreProviders.Builtin);
        using var log = new StringWriter();
        await using var server = DepotServer.Create(ServedCaches.Open(engine, config), null, tokens,
            TextWriter.Synchronized(log));
        await server.StartAsync(Token);
        var read = (await tokens.CreateAsync("priv", TokenScope.Read, null, null, Token)).Text;
        var other = (await tokens.CreateAsync("priv", TokenScope.Read, null, null, Token)).Text;
        await tokens.RevokeAsync(other[4..16], Token);
        using var http = new HttpClient { BaseAddress = server.BaseUrls[0] };

        using var plain = await http.GetAsync("priv/v3/layout.json", Token);
        using var carried = await http.GetAsync($"_t/{read}/priv/v3/layout.json", Token);
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head,
            $"_t/{read}/priv/v3/manifests/index/index.manifest.json"), Token);
        using var revoked = await http.GetAsync($"_t/{other}/priv/v3/layout.json", Token);
        using var put = await http.PutAsync($"_t/{read}/priv/_depot/v1/blobs/sha256/{new string('0', 64)}",
            new ByteArrayContent([1]), Token);

        Assert.Equal(HttpStatusCode.Unauthorized, plain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, carried.StatusCode);
        Assert.Equal(await File.ReadAllTextAsync(TestData.Path("spack-1.2/mirror-signed/v3/layout.json"), Token),
            await carried.Content.ReadAsStringAsync(Token));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        await server.StopAsync(Token);
        var lines = log.ToString();
        Assert.Contains("\"path\":\"/priv/v3/layout.json\"", lines, StringComparison.Ordinal);
        Assert.DoesNotContain(read, lines, StringComparison.Ordinal);
        Assert.DoesNotContain(other, lines, StringComparison.Ordinal);
        Assert.DoesNotContain("_t/", lines, StringComparison.Ordinal);
    }
}
