using Depot.Configuration;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;
using Depot.Storage.Providers;

namespace Depot.Tests.Server;

/// <summary>
/// A real <c>depot serve</c> in this process (Kestrel on a free port) with real tokens (its tokens file), for clients
/// to push to and read from.
/// </summary>
internal sealed class TokenServer : IAsyncDisposable
{
    private readonly TempDir home;
    private readonly TokenStore tokens;

    private TokenServer(TempDir home, TokenStore tokens, DepotServer server)
    {
        this.home = home;
        this.tokens = tokens;
        Server = server;
    }

    public DepotServer Server { get; }

    /// <summary>Starts a server for <paramref name="caches"/>; <paramref name="withFixtureKey"/> puts the fixture key
    /// pair in its keyring; <paramref name="requestLog"/> receives its request log.</summary>
    public static async Task<TokenServer> StartAsync(IReadOnlyList<ServedCacheConfig> caches,
        bool withFixtureKey = false, TextWriter? requestLog = null)
    {
        var home = new TempDir();
        if (withFixtureKey)
        {
            TestData.FixtureKeyring(home.Path);
        }

        var engine = new EngineContext(new DepotHome(home.Path), StoreProviders.Builtin);
        var file = Path.Combine(home.Path, "tokens.json");
        var config = new ServeConfig(["127.0.0.1:0"], null, file, new ServeLimits(), caches, null);
        var tokens = new TokenStore(file);
        var server = DepotServer.Create(ServedCaches.Open(engine, config), null, tokens, requestLog);
        await server.StartAsync(TestContext.Current.CancellationToken);
        return new TokenServer(home, tokens, server);
    }

    /// <summary>The cache's URL as a user writes it: <c>http://127.0.0.1:PORT/NAME</c>.</summary>
    public string Url(string cache) => new Uri(Server.BaseUrls[0], cache).ToString();

    /// <summary>A new token's text for <paramref name="cache"/>.</summary>
    public async Task<string> TokenAsync(string cache, TokenScope scope) =>
        (await tokens.CreateAsync(cache, scope, null, null, TestContext.Current.CancellationToken)).Text;

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync(CancellationToken.None);
        await Server.DisposeAsync();
        home.Dispose();
    }
}
