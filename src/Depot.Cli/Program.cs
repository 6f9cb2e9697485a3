using System.CommandLine;
using Depot.Cli.Commands;

namespace Depot.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // One write per line would cost a system call per listed spec: buffer standard output, flush once.
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16)
        {
            AutoFlush = false,
        };
        try
        {
            // The one place the process environment is read: everything below gets it from here.
            var environment = EnvironmentVariables.FromProcess();
            var interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected
                && environment["TERM"] != "dumb";
            return await Run(args, stdout, Console.Error, null, interactive, environment: environment)
                .ConfigureAwait(false);
        }
        finally
        {
            await stdout.FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs the CLI with the given streams (tests call this in-process with their own Depot home and environment
    /// variables, and may pass how the engine reaches mirrors, to count it). <paramref name="environment"/>: the
    /// variables the run sees; none when not given (the process's are read only by <see cref="Main"/>).
    /// </summary>
    public static async Task<int> Run(string[] args, TextWriter stdout, TextWriter stderr, string? depotHome = null,
        bool interactive = false,
        Depot.Operations.MirrorAccess? access = null, EnvironmentVariables? environment = null)
    {
        var console = new CliConsole(stdout, stderr, depotHome, interactive, access, environment);
        var root = CreateRoot(console, VerbsFor(args));
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && args.Contains("--json"))
        {
            var message = string.Join("; ", parse.Errors.Select(e => e.Message));
            JsonOutput.WriteError(stdout, ErrorKind.Usage, message, null);
            return ExitCodes.Usage;
        }

        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync("depot: error: " + error.Message).ConfigureAwait(false);
            }

            await stderr.WriteLineAsync(
                    $"Run '{string.Join(' ', ["depot", .. CommandPath(parse.CommandResult.Command, root)])} --help' "
                    + "for usage.")
                .ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var config = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,

            // Ctrl-C (SIGINT) and SIGTERM cancel the command's token; the command then stops, removes what it staged
            // and says "cancelled" (exit 130). Only a command that does not stop within this time is cut off.
            ProcessTerminationTimeout = TimeSpan.FromSeconds(10),
        };
        return await parse.InvokeAsync(config).ConfigureAwait(false);
    }

    /// <summary>
    /// Every verb, by name, with the factory of its command. Only the verbs a run needs are built
    /// (<see cref="VerbsFor"/>): each builds its options, arguments and actions, and that is most of the start-up.
    /// Help lists them in this order.
    /// </summary>
    public static IReadOnlyList<(string Name, Func<CliConsole, Command> Create)> Verbs { get; } =
    [
        ("list", ListCommand.Create),
        ("index", IndexCommand.Create),
        ("verify", VerifyCommand.Create),
        ("keys", KeysCommand.Create),
        ("sign", SignCommand.Create),
        ("push", PushCommand.Create),
        ("copy", CopyCommand.Create),
        ("install", InstallCommand.Create),
        ("env", EnvCommand.Create),
        ("mirror", MirrorCommand.Create),
    ];

    /// <summary>The root command with the given verbs' commands (all of <see cref="Verbs"/> for help and
    /// completion).</summary>
    public static RootCommand CreateRoot(CliConsole console,
        IEnumerable<(string Name, Func<CliConsole, Command> Create)> verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        var root = new RootCommand("Depot: a fast, Spack-compatible binary build cache.");
        foreach (var (_, create) in verbs)
        {
            root.Subcommands.Add(create(console));
        }

        return root;
    }

    /// <summary>
    /// The verbs a run parses: the one named first (<c>depot list ...</c>), none for a lone <c>--version</c>, else
    /// all of them (root help, a mistyped verb, directives): parsing and help are then the same as with every verb.
    /// </summary>
    internal static IEnumerable<(string Name, Func<CliConsole, Command> Create)> VerbsFor(string[] args)
    {
        if (args is ["--version"])
        {
            return [];
        }

        var named = args.Length > 0 ? Verbs.Where(v => v.Name == args[0]).ToList() : [];
        return named.Count == 1 ? named : Verbs;
    }

    private static IEnumerable<string> CommandPath(Command command, RootCommand root) =>
        command == root ? [] : [command.Name];
}
