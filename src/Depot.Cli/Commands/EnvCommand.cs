using System.CommandLine;
using Depot.Operations;
using Depot.Specs;

namespace Depot.Cli.Commands;

/// <summary><c>depot env --root PATH SPEC...</c>: shell lines that put installed packages on the search
/// paths.</summary>
public static class EnvCommand
{
    public static Command Create(CliConsole console)
    {
        var queries = new Argument<string[]>("spec")
        {
            Description = "Installed specs: name, name@version or /hash",
            Arity = ArgumentArity.OneOrMore,
        };
        var root = new Option<string>("--root")
        {
            Description = "The plain tree 'depot install --root' installed into",
            Required = true,
        };
        var shell = new Option<string>("--shell")
        {
            Description = "Syntax of the lines: sh (also for bash and zsh), csh or fish",
            DefaultValueFactory = _ => "sh",
        };
        shell.AcceptOnlyFromAmong("sh", "bash", "zsh", "csh", "tcsh", "fish");
        var json = CommonArguments.Json("Print the variables and their directories as JSON (errors too)");
        var command = new Command("env",
            "Print the environment (PATH, LD_LIBRARY_PATH, ...) that makes installed specs usable")
        {
            queries, root, shell, json,
        };
        command.SetAction(console.Guard((parse, token) =>
        {
            var entries = EnvironmentOperation.Run(Path.GetFullPath(parse.GetValue(root)!),
                parse.GetValue(queries)!.Select(SpecQuery.Parse).ToList());
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("variables");
                    foreach (var entry in entries)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", entry.Variable);
                        w.WriteStartArray("directories");
                        entry.Directories.ToList().ForEach(w.WriteStringValue);
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                return Task.FromResult(ExitCodes.Success);
            }

            foreach (var entry in entries)
            {
                var joined = string.Join(':', entry.Directories);
                console.Out.WriteLine(parse.GetValue(shell) switch
                {
                    "csh" or "tcsh" =>
                        $"if ($?{entry.Variable}) then\n    setenv {entry.Variable} "
                        + $"\"{joined}:${{{entry.Variable}}}\"\nelse\n    setenv {entry.Variable} \"{joined}\"\nendif",
                    "fish" =>
                        $"set -gx {entry.Variable} {string.Join(' ', entry.Directories.Select(d => $"\"{d}\""))} "
                        + $"${entry.Variable}",
                    _ => $"export {entry.Variable}=\"{joined}${{{entry.Variable}:+:${entry.Variable}}}\"",
                });
            }

            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }
}
