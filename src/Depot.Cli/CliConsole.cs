using System.CommandLine;

namespace Depot.Cli;

/// <summary>Named exit codes: scripts can tell a failure from a run that completed but skipped bad entries.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int CompletedWithProblems = 3;
    public const int Cancelled = 130;
}

/// <summary>Where commands write, and the one place that turns exceptions into one-line errors and exit codes.</summary>
public sealed class CliConsole(TextWriter stdout, TextWriter stderr, string? depotHome = null, bool interactive = false)
{
    /// <summary>True when a person watches a terminal: progress bars instead of log lines.</summary>
    public bool Interactive => interactive;

    /// <summary>Depot's home: the one given (tests), else <c>$DEPOT_HOME</c> or <c>~/.depot</c>.</summary>
    public Depot.Configuration.DepotHome Home =>
        depotHome is null ? Depot.Configuration.DepotHome.FromEnvironment() : new Depot.Configuration.DepotHome(depotHome);

    /// <summary>
    /// Opens a mirror given as a configured name (Depot's or Spack's) or a path/URL, with its credentials; HTTP index
    /// copies are kept in <c>$DEPOT_HOME/cache/http</c>.
    /// </summary>
    public Depot.Storage.IStoreReader OpenStore(string mirror, bool push = false) =>
        Depot.Configuration.MirrorRegistry.Load(Home, ShippedStores.Providers)
            .Open(mirror, push, System.IO.Path.Combine(Home.Path, "cache", "http"));

    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    public void Warn(string message) => Error.WriteLine("depot: warning: " + message);

    /// <summary>Wraps a command body: user errors become <c>depot: error: ...</c> and exit 1, no stack trace.</summary>
    public Func<ParseResult, CancellationToken, Task<int>> Guard(Func<ParseResult, CancellationToken, Task<int>> action) =>
        async (parse, token) =>
        {
            try
            {
                return await action(parse, token).ConfigureAwait(false);
            }
            catch (DepotException e)
            {
                await Error.WriteLineAsync("depot: error: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Error;
            }
            catch (OperationCanceledException)
            {
                await Error.WriteLineAsync("depot: cancelled").ConfigureAwait(false);
                return ExitCodes.Cancelled;
            }
            catch (IOException e)
            {
                await Error.WriteLineAsync("depot: error: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Error;
            }
            catch (UnauthorizedAccessException e)
            {
                await Error.WriteLineAsync("depot: error: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Error;
            }
        };
}
