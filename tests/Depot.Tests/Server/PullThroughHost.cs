using Depot.Cli;
using Depot.Configuration;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;
using Depot.Storage;
using Depot.Tests.Storage;

namespace Depot.Tests.Server;

/// <summary>
/// A real <see cref="DepotServer"/> on a free port over one cache, with a Depot home of its own that trusts the
/// fixture key (fpr 6640D90F…). Upstream directories named in <see cref="Recorded"/> are opened through a
/// <see cref="RecordingStore"/>, so a test counts what was read from them.
/// </summary>
internal sealed class PullThroughHost : IAsyncDisposable
{
    private readonly TempDir home;

    private PullThroughHost(DepotServer server, ServedCache cache, Dictionary<string, RecordingStore> recorded,
        TempDir home)
    {
        this.home = home;
        Server = server;
        Cache = cache;
        Recorded = recorded;
        Http = new HttpClient { BaseAddress = new Uri(server.BaseUrls[0], cache.Name + "/") };
    }

    public DepotServer Server { get; }

    public ServedCache Cache { get; }

    public PullThrough Pull => Cache.PullThrough!;

    /// <summary>Upstream directory → the store that recorded its reads.</summary>
    public Dictionary<string, RecordingStore> Recorded { get; }

    /// <summary>The cache's URL (<c>http://127.0.0.1:PORT/NAME/</c>).</summary>
    public HttpClient Http { get; }

    public string Url => Http.BaseAddress!.ToString();

    /// <summary>
    /// Serves <paramref name="cache"/>; its upstreams that are directories are recorded, and its own store when
    /// <paramref name="recordServed"/> (a server that is another one's upstream).
    /// </summary>
    public static async Task<PullThroughHost> StartAsync(ServedCacheConfig cache,
        Action<Depot.Signing.Keyring>? keys = null, bool recordServed = false)
    {
        var home = new TempDir();
        var keyring = Depot.Signing.Keyring.Open(new DepotHome(home.Path).KeysFolder);
        keyring.Import(File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")), "fixture.asc", "test");
        keys?.Invoke(keyring);
        var recorded = new Dictionary<string, RecordingStore>(StringComparer.Ordinal);
        var real = MirrorAccess.Default;
        var access = new MirrorAccess
        {
            OpenStore = request =>
            {
                var store = real.OpenStore(request);
                if (request.Purpose == MirrorPurpose.Read && store is IObjectStore full
                    && (cache.Upstreams.Any(u => u.Mirror == request.NameOrUrl)
                        || (recordServed && request.NameOrUrl == cache.Mirror))
                    && !request.NameOrUrl.Contains("://", StringComparison.Ordinal))
                {
                    lock (recorded)
                    {
                        var recording = new RecordingStore(full);
                        recorded[request.NameOrUrl] = recording;
                        return recording;
                    }
                }

                return store;
            },
        };
        var engine = new EngineContext(new DepotHome(home.Path), ShippedStores.Providers, access);
        var config = new ServeConfig(["127.0.0.1:0"], null, home.Combine("tokens"), new ServeLimits(), [cache], null);
        var caches = ServedCaches.Open(engine, config);
        var server = DepotServer.Create(caches);
        await server.StartAsync(TestContext.Current.CancellationToken);
        return new PullThroughHost(server, caches.All[0], recorded, home);
    }

    /// <summary>The server's Depot home (its keyring).</summary>
    public string HomePath => home.Path;

    /// <summary>How many times <paramref name="key"/> was opened on the upstream <paramref name="upstream"/>.</summary>
    public int Reads(string upstream, string key) => Recorded[upstream].Opened.Count(k => k == key);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
        Cache.PullThrough?.Dispose();
        home.Dispose();
    }
}
