using Depot.Catalog;
using Depot.Configuration;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;
using Depot.Storage.Providers;
using Depot.Tests.Catalog;

namespace Depot.Tests.Server;

/// <summary>
/// A real <c>depot serve</c> (Kestrel on a free port, real tokens) over two caches of the v3 fixture mirror:
/// <c>main</c> public and <c>team</c> private, whose catalogs are <see cref="FakeCatalogSource"/>s. Its client neither
/// follows redirects nor keeps cookies: the tests look at both.
/// </summary>
internal sealed class CatalogPageServer : IAsyncDisposable
{
    private readonly TempDir home;
    private readonly TokenStore tokens;

    private CatalogPageServer(TempDir home, TokenStore tokens)
    {
        this.home = home;
        this.tokens = tokens;
    }

    public DepotServer Server { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public FakeCatalogSource Main { get; } = FakeCatalogSource.Sample("main");

    public FakeCatalogSource Team { get; } = FakeCatalogSource.Sample("team", isPublic: false);

    public static async Task<CatalogPageServer> StartAsync()
    {
        var home = new TempDir();
        var mirror = TestData.Path(TestData.V3Unsigned);
        var engine = new EngineContext(new DepotHome(home.Path), StoreProviders.Builtin);
        var file = Path.Combine(home.Path, "tokens.json");
        var config = new ServeConfig(["127.0.0.1:0"], null, file, new ServeLimits(),
            [new ServedCacheConfig("main", mirror) { Public = true, ReadOnly = true },
                new ServedCacheConfig("team", mirror) { ReadOnly = true }], null);
        var tokens = new TokenStore(file);
        var self = new CatalogPageServer(home, tokens);
        self.Server = DepotServer.Create(ServedCaches.Open(engine, config), null, tokens,
            catalogs: cache => cache.Name == "main" ? self.Main : self.Team);
        await self.Server.StartAsync(TestContext.Current.CancellationToken);
        self.Client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = self.Server.BaseUrls[0],
        };
        return self;
    }

    public async Task<string> TokenAsync(string cache, TokenScope scope = TokenScope.Read) =>
        (await tokens.CreateAsync(cache, scope, null, null, TestContext.Current.CancellationToken)).Text;

    /// <summary>GETs <paramref name="path"/>, with the cookie or header given.</summary>
    public async Task<(HttpResponseMessage Response, string Body)> GetAsync(string path, string? cookie = null,
        string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", "depot_token=" + cookie);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.StopAsync(CancellationToken.None);
        await Server.DisposeAsync();
        home.Dispose();
    }
}
