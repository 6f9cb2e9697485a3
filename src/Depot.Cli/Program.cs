using System.CommandLine;
using System.CommandLine.Help;
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

        // No response files: "@1.0" is Spack's version syntax (depot list demo @1.0), not a file to read.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (UsageErrors.Describe(parse) is { } usage && !HelpRequested(parse))
        {
            if (args.Contains("--json"))
            {
                JsonOutput.WriteError(stdout, ErrorKind.Usage, usage, null);
            }
            else
            {
                await stderr.WriteLineAsync("depot: error: " + usage).ConfigureAwait(false);
            }

            return ExitCodes.Usage;
        }

        var config = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,

            // Ctrl-C (SIGINT) and SIGTERM cancel the command's token; the command then stops, removes what it staged
            // and says "cancelled" (exit 130). Only a command that does not stop within this time is cut off.
            // A server lets its requests in flight finish first (downloads of large blobs), for longer.
            ProcessTerminationTimeout = args.FirstOrDefault() == "serve"
                ? Depot.Server.DepotServer.ShutdownTimeout + TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(10),
        };
        return await parse.InvokeAsync(config).ConfigureAwait(false);
    }

    /// <summary>
    /// Every verb, by name, with the factory of its command. A run builds only the verbs it needs
    /// (<see cref="VerbsFor"/>): building a command (its options, arguments, validators and action) is most of the
    /// start-up. Help lists them in this order.
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
        ("prune", PruneCommand.Create),
        ("rm", RmCommand.Create),
        ("install", InstallCommand.Create),
        ("env", EnvCommand.Create),
        ("stats", StatsCommand.Create),
        ("check", CheckCommand.Create),
        ("migrate", MigrateCommand.Create),
        ("mirror", MirrorCommand.Create),
        ("serve", ServeCommand.Create),
        ("catalog", CatalogCommand.Create),
        ("completion", CompletionCommand.Create),
    ];

    /// <summary>The root command, <c>depot</c>, with the given verbs' commands.</summary>
    public static Command CreateRoot(CliConsole console,
        IEnumerable<(string Name, Func<CliConsole, Command> Create)> verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);

        // A plain command named "depot", not RootCommand (named after the executable: "Depot.Cli" in help).
        var root = new Command("depot", "Depot: a fast, Spack-compatible binary build cache.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        foreach (var (_, create) in verbs)
        {
            root.Subcommands.Add(create(console));
        }

        return root;
    }

    /// <summary>
    /// The verbs a run parses: the one named first (<c>depot list ...</c>), none for a lone <c>--version</c>, else
    /// all of them (root help, a mistyped verb, <c>completion</c>, which describes every verb): parsing, errors and
    /// help are then the same as with every verb built.
    /// </summary>
    internal static IEnumerable<(string Name, Func<CliConsole, Command> Create)> VerbsFor(string[] args)
    {
        if (args is ["--version"])
        {
            return [];
        }

        var named = args.Length > 0 && args[0] != "completion" ? Verbs.Where(v => v.Name == args[0]).ToList() : [];
        return named.Count == 1 ? named : Verbs;
    }

    /// <summary>--help shows the help page even where the rest of the line is incomplete.</summary>
    private static bool HelpRequested(ParseResult parse) => parse.Action is HelpAction;
}
