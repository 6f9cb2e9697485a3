using System.CommandLine;

namespace Depot.Cli;

/// <summary>Where commands write, and the one place that turns exceptions into one-line errors and exit
/// codes.</summary>
public sealed class CliConsole(TextWriter stdout, TextWriter stderr, string? depotHome = null, bool interactive = false,
    Depot.Operations.MirrorAccess? access = null, EnvironmentVariables? environment = null)
{
    private Depot.Operations.EngineContext? engine;

    /// <summary>True when a person watches a terminal: progress bars instead of log lines.</summary>
    public bool Interactive => interactive;

    /// <summary>
    /// The environment this run sees (<c>Program.Main</c>: the process's; tests: their own): Depot's home, Spack's
    /// root and scopes, the variables mirrors name. Nothing below the CLI reads the process environment.
    /// </summary>
    public EnvironmentVariables Environment { get; } = environment ?? EnvironmentVariables.Empty;

    /// <summary>Depot's home: the one given (tests), else <c>$DEPOT_HOME</c> or <c>~/.depot</c>.</summary>
    public Depot.Configuration.DepotHome Home =>
        depotHome is null ? Depot.Configuration.DepotHome.FromEnvironment(Environment)
            : new Depot.Configuration.DepotHome(depotHome);

    /// <summary>
    /// The engine this command runs on (one per command: the configuration is loaded once, each mirror opened once);
    /// commands open mirrors through it and hand them to operations.
    /// </summary>
    public Depot.Operations.EngineContext Engine =>
        engine ??= new Depot.Operations.EngineContext(Home, ShippedStores.Providers.WithEnvironment(Environment),
            access);

    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    public void Warn(string message) => Error.WriteLine("depot: warning: " + message);

    /// <summary>A skipped entry: its message and, when there is one, the advice.</summary>
    public void Warn(Depot.Operations.EntryProblem problem) => Warn(HintText.WithHint(problem.Message, problem.Hint));

    /// <summary>True when the command was given <c>--json</c>: results and errors go to stdout as JSON.</summary>
    public static bool WantsJson(ParseResult parse) =>
        parse.CommandResult.Command.Options.OfType<Option<bool>>().FirstOrDefault(o => o.Name == "--json") is { } json
        && parse.GetValue(json);

    /// <summary>
    /// Reports an error and returns its exit code: with <c>--json</c> one JSON object on stdout
    /// (<c>{"error":{"kind","exit_code","message","hint"}}</c>), else <c>depot: error: MESSAGE; ADVICE</c> on stderr.
    /// </summary>
    public int Fail(ParseResult parse, ErrorKind kind, string message, ErrorHint? hint = null)
    {
        if (WantsJson(parse))
        {
            JsonOutput.WriteError(Out, kind, message, hint);
        }
        else
        {
            Error.WriteLine("depot: error: " + HintText.WithHint(message, hint));
        }

        return ExitCodes.For(kind);
    }

    /// <summary>
    /// The user interrupted the run (Ctrl-C, SIGINT, SIGTERM): <c>depot: cancelled</c> on stderr, or with <c>--json</c>
    /// <c>{"error":{"kind":"cancelled","exit_code":130,...}}</c> on stdout; exit code 130, as shells report SIGINT.
    /// </summary>
    public int Cancelled(ParseResult parse)
    {
        if (WantsJson(parse))
        {
            JsonOutput.WriteError(Out, "cancelled", ExitCodes.Cancelled, "cancelled", null);
        }
        else
        {
            Error.WriteLine("depot: cancelled");
        }

        return ExitCodes.Cancelled;
    }

    /// <summary>
    /// Wraps a command body: user errors (a <see cref="DepotException"/>, an I/O failure) become one line, or one JSON
    /// object with <c>--json</c>, and the exit code of their kind; no stack trace. A cancel is <see cref="Cancelled"/>
    /// only when the command's token was cancelled (the user stopped it); a cancel nobody asked for is a timeout, an
    /// I/O error. Anything else is a bug and crashes.
    /// </summary>
    public Func<ParseResult, CancellationToken, Task<int>> Guard(
        Func<ParseResult, CancellationToken, Task<int>> action) =>
        async (parse, token) =>
        {
            try
            {
                return await action(parse, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return Cancelled(parse);
            }
            catch (OperationCanceledException e)
            {
                // Nobody asked to stop: a timeout inside a request (HttpClient's, a service SDK's) is an I/O error.
                return Fail(parse, ErrorKind.IO, "a request was abandoned before it finished (a timeout): "
                    + e.Message.Split('\n')[0]);
            }
            catch (ErrorReportedException e)
            {
                return e.ExitCode;
            }
            catch (Exception e) when (ErrorKinds.Of(e) is { } kind)
            {
                // A refusal .NET words as "Access to the path … is denied.": named with the permission and the fix.
                return Fail(parse, kind, Depot.Posix.PermissionDenied.MessageOf(e), (e as DepotException)?.Hint);
            }
        };
}

/// <summary>
/// An error a command has reported already, inside its result (the <c>--json</c> document of a run whose last step
/// failed carries the error): <see cref="CliConsole.Guard"/> only returns the exit code.
/// </summary>
public sealed class ErrorReportedException(int exitCode) : Exception("reported: exit code " + exitCode)
{
    public int ExitCode { get; } = exitCode;
}
