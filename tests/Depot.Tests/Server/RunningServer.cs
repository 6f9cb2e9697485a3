using Depot.Cli;
using Depot.Configuration;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;

namespace Depot.Tests.Server;

/// <summary>
/// A <c>depot serve</c> started in-process on a free 127.0.0.1 port over the given configuration, with its own Depot
/// home, a client for its first address, and the request log it wrote; stopped and removed when disposed.
/// </summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly TempDir home;

    private RunningServer(TempDir home, DepotServer server, StringWriter log, HttpClient client)
    {
        this.home = home;
        Server = server;
        Log = log;
        Client = client;
    }

    public DepotServer Server { get; }

    /// <summary>The request log (JSON lines) so far.</summary>
    public StringWriter Log { get; }

    /// <summary>
    /// The request log's first <paramref name="count"/> lines, waiting up to ten seconds for them: a line is written
    /// when the response completes on the server, which can be just after the client has read it.
    /// </summary>
    public async Task<string[]> LogLinesAsync(int count)
    {
        for (var waited = 0; ; waited += 20)
        {
            var lines = Log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length >= count || waited >= 10_000)
            {
                return lines;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A client whose base address is the server's first URL.</summary>
    public HttpClient Client { get; }

    public Uri BaseUrl => Server.BaseUrls[0];

    /// <summary>Zero-config: the mirrors public and read-only, as <c>depot serve DIR...</c> does.</summary>
    public static Task<RunningServer> StartAsync(params string[] mirrors) =>
        StartAsync(ServeConfig.ZeroConfig(mirrors, "127.0.0.1:0", "/nonexistent/tokens.json"));

    /// <summary>Starts a server over <paramref name="config"/> (its listen address should use port 0).</summary>
    public static async Task<RunningServer> StartAsync(ServeConfig config,
        IReadOnlyDictionary<string, string>? variables = null, HttpMessageHandler? handler = null)
    {
        var home = new TempDir();
        var environment = EnvironmentVariables.From(variables ?? new Dictionary<string, string>());
        var engine = new EngineContext(new DepotHome(home.Path), ShippedStores.Providers.WithEnvironment(environment));
        var log = new StringWriter();
        DepotServer server;
        try
        {
            server = DepotServer.Create(ServedCaches.Open(engine, config), requestLog: TextWriter.Synchronized(log));
            await server.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            home.Dispose();
            throw;
        }

        var client = new HttpClient(handler ?? new HttpClientHandler(), disposeHandler: true)
        {
            BaseAddress = server.BaseUrls[0],
        };
        return new RunningServer(home, server, log, client);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.StopAsync();
        await Server.DisposeAsync();
        home.Dispose();
    }
}
