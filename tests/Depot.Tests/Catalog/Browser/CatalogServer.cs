using Depot.Configuration;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;
using Depot.Storage.Providers;

namespace Depot.Tests.Catalog.Browser;

/// <summary>
/// A real <c>depot serve</c> (in-process Kestrel on a free 127.0.0.1 port) over copies of the Spack 1.2 and 0.21
/// fixture caches, as four caches: <c>trusted</c> (the signed cache, its key's fingerprint in the cache's
/// <c>trusted_fingerprints</c>: the key the cache publishes is trusted), <c>untrusted</c> (the same signed cache, no
/// trusted fingerprint), <c>unsigned</c> (the unsigned cache) and <c>private</c> (not public; read with
/// <see cref="PrivateToken"/>). The server's keyring is empty, so the pin is the only trust there is.
/// </summary>
public sealed class CatalogServer : IAsyncLifetime
{
    public const string FixtureFingerprint = "6640D90F8A1E84DD1142614C06BD5C3F48A372CC";

    private readonly TempDir home = new();
    private readonly List<TempDir> mirrors = [];
    private DepotServer? server;

    public Uri BaseUrl => server?.BaseUrls[0] ?? throw new InvalidOperationException("the server is not started");

    /// <summary>The URL of a cache's page: <c>http://127.0.0.1:PORT/NAME/</c>.</summary>
    public Uri CacheUrl(string cache) => new(BaseUrl, cache + "/");

    /// <summary>What the signed cache (served as trusted and untrusted) holds.</summary>
    public FixtureSpecs Signed { get; private set; } = null!;

    /// <summary>What the unsigned cache holds.</summary>
    public FixtureSpecs Unsigned { get; private set; } = null!;

    /// <summary>What the private cache (a layout v2 cache) holds.</summary>
    public FixtureSpecs Private { get; private set; } = null!;

    /// <summary>A read token for the private cache.</summary>
    public string PrivateToken { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var cancel = TestContext.Current.CancellationToken;
        var signed = Copy(TestData.V3Signed);
        var unsigned = Copy(TestData.V3Unsigned);
        var secret = Copy(TestData.V2Unsigned);
        Signed = await FixtureSpecs.ReadAsync(signed, cancel);
        Unsigned = await FixtureSpecs.ReadAsync(unsigned, cancel);
        Private = await FixtureSpecs.ReadAsync(secret, cancel);

        var tokensFile = Path.Combine(home.Path, "tokens.json");
        var tokens = new TokenStore(tokensFile);
        PrivateToken = (await tokens.CreateAsync("private", TokenScope.Read, null, null, cancel)).Text;
        ServedCacheConfig[] caches =
        [
            new("trusted", signed) { Public = true, ReadOnly = true, TrustedFingerprints = [FixtureFingerprint] },
            new("untrusted", signed) { Public = true, ReadOnly = true },
            new("unsigned", unsigned) { Public = true, ReadOnly = true },
            new("private", secret) { Public = false, ReadOnly = true },
        ];
        var config = new ServeConfig(["127.0.0.1:0"], null, tokensFile, new ServeLimits(), caches, null);
        var engine = new EngineContext(new DepotHome(home.Path), StoreProviders.Builtin);
        server = DepotServer.Create(ServedCaches.Open(engine, config), null, tokens);
        await server.StartAsync(cancel);
    }

    private string Copy(string fixture)
    {
        var copy = TestData.Copy(fixture);
        mirrors.Add(copy);
        return copy.Path;
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.StopAsync(CancellationToken.None);
            await server.DisposeAsync();
        }

        foreach (var mirror in mirrors)
        {
            mirror.Dispose();
        }

        home.Dispose();
    }
}
