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
    /// Wraps a command body: user errors (a <see cref="DepotException"/>, an I/O failure) become one line, or one JSON
    /// object with <c>--json</c>, and the exit code of their kind; no stack trace. Anything else is a bug and crashes.
    /// </summary>
    public Func<ParseResult, CancellationToken, Task<int>> Guard(
        Func<ParseResult, CancellationToken, Task<int>> action) =>
        async (parse, token) =>
        {
            try
            {
                return await action(parse, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await Error.WriteLineAsync("depot: cancelled").ConfigureAwait(false);
                return ExitCodes.Cancelled;
            }
            catch (Exception e) when (ErrorKinds.Of(e) is { } kind)
            {
                return Fail(parse, kind, e.Message, (e as DepotException)?.Hint);
            }
        };
}
