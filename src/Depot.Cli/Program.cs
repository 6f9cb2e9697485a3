using System.CommandLine;
using Depot.Cli.Commands;

namespace Depot.Cli;

public static class Program
{
    public static Task<int> Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the CLI with the given streams (tests call this in-process).</summary>
    public static async Task<int> Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var console = new CliConsole(stdout, stderr);
        var root = new RootCommand("Depot: a fast, Spack-compatible binary build cache.")
        {
            ListCommand.Create(console),
            IndexCommand.Create(console),
        };
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        return await root.Parse(args).InvokeAsync(config).ConfigureAwait(false);
    }
}
