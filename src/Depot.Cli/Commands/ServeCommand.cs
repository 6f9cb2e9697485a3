using System.CommandLine;
using Depot.Server;
using Depot.Serving;

namespace Depot.Cli.Commands;

/// <summary>
/// <c>depot serve [MIRROR...] [--config FILE] [--listen ADDR:PORT]</c>: serves build caches to Spack over HTTP(S)
/// until stopped (Ctrl-C, SIGTERM: requests in flight finish first). Mirrors on the command line are served public and
/// read-only, each named after its last path segment; a configuration file says everything else (tokens, push,
/// pull-through, TLS).
/// </summary>
public static class ServeCommand
{
    public static Command Create(CliConsole console)
    {
        var mirrors = new Argument<string[]>("MIRROR")
        {
            Description = "Mirrors to serve read-only and public (path, URL or configured name)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var config = new Option<string>("--config")
        {
            Description = "serve.yaml: caches, tokens, TLS, limits (default: $DEPOT_HOME/serve.yaml when no MIRROR)",
        };
        var listen = new Option<string>("--listen")
        {
            Description = $"Address to listen on, HOST:PORT (default {ServeConfig.DefaultListen})",
        };
        var quiet = new Option<bool>("--quiet", "-q")
        {
            Description = "No request log (otherwise one JSON line per request on standard error)",
        };
        var command = new Command("serve", "Serve build caches to Spack and Depot over HTTP(S)")
        {
            mirrors, config, listen, quiet, ServeTokenCommand.Create(console),
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var served = LoadConfig(console, parse.GetValue(mirrors) ?? [], parse.GetValue(config),
                parse.GetValue(listen));
            var caches = ServedCaches.Open(console.Engine, served);
            await using var server = DepotServer.Create(caches,
                requestLog: parse.GetValue(quiet) ? null : console.Error);
            await server.StartAsync(token).ConfigureAwait(false);
            foreach (var (name, url) in server.CacheUrls)
            {
                var cache = caches.Find(name)!.Config;
                var rules = (cache.Public ? "public" : "private") + (cache.ReadOnly ? ", read-only" : "");
                await console.Out.WriteLineAsync($"serving {name} ({cache.Mirror}) at {url} [{rules}]")
                    .ConfigureAwait(false);
            }

            await console.Out.WriteLineAsync("Ctrl-C stops the server").ConfigureAwait(false);
            await console.Out.FlushAsync(token).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping is this command's normal end: requests in flight finish, then exit 0.
            }

            await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static ServeConfig LoadConfig(CliConsole console, string[] mirrors, string? config, string? listen)
    {
        if (mirrors.Length > 0 && config is not null)
        {
            throw new DepotException(ErrorKind.Usage,
                "name mirrors or a configuration file, not both (a configuration file lists its caches)");
        }

        if (mirrors.Length > 0)
        {
            return ServeConfig.ZeroConfig(mirrors, listen, Path.Combine(console.Home.Path, "tokens.json"));
        }

        var file = config ?? Path.Combine(console.Home.Path, "serve.yaml");
        if (config is null && !File.Exists(file))
        {
            throw new DepotException(ErrorKind.Usage, "nothing to serve: name a mirror (depot serve PATH-OR-URL) or"
                + $" write {file} (depot serve --config FILE)");
        }

        return ServeConfig.Load(file, listen);
    }
}
