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
public sealed class CliConsole(TextWriter stdout, TextWriter stderr, string? depotHome = null, bool interactive = false,
    Depot.Operations.MirrorAccess? access = null)
{
    private Depot.Operations.EngineContext? engine;

    /// <summary>True when a person watches a terminal: progress bars instead of log lines.</summary>
    public bool Interactive => interactive;

    /// <summary>Depot's home: the one given (tests), else <c>$DEPOT_HOME</c> or <c>~/.depot</c>.</summary>
    public Depot.Configuration.DepotHome Home =>
        depotHome is null ? Depot.Configuration.DepotHome.FromEnvironment() : new Depot.Configuration.DepotHome(depotHome);

    /// <summary>
    /// The engine this command runs on (one per command: the configuration is loaded once, each mirror opened once);
    /// commands open mirrors through it and hand them to operations.
    /// </summary>
    public Depot.Operations.EngineContext Engine => engine ??= new Depot.Operations.EngineContext(Home, ShippedStores.Providers, access);

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
