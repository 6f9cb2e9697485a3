using System.CommandLine;

namespace Depot.Cli.Commands;

/// <summary><c>depot completion bash|zsh|fish</c>: prints the shell's completion script for depot.</summary>
public static class CompletionCommand
{
    public static Command Create(CliConsole console)
    {
        var shell = new Argument<string?>("shell")
        {
            Description = "bash, zsh or fish",
            Arity = ArgumentArity.ZeroOrOne,
        };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var mirrorNames = new Option<bool>("--mirror-names")
        {
            Description = "Print the configured mirrors' names, one a line (what the scripts complete a mirror with)",
            Hidden = true,
        };
        var json = CommonArguments.Json("Print {\"shell\", \"script\"} as JSON (errors too)");
        var command = new Command("completion",
            "Print a completion script: source <(depot completion bash) in ~/.bashrc, likewise zsh; "
            + "depot completion fish | source")
        {
            shell, mirrorNames, json,
        };
        command.SetAction(console.Guard((parse, token) =>
        {
            if (parse.GetValue(mirrorNames))
            {
                var names = console.Engine.Registry.Mirrors.Select(m => m.Name).ToList();
                if (parse.GetValue(json))
                {
                    JsonOutput.Write(console.Out, w =>
                    {
                        w.WriteStartArray();
                        names.ForEach(w.WriteStringValue);
                        w.WriteEndArray();
                    });
                }
                else
                {
                    names.ForEach(console.Out.WriteLine);
                }

                return Task.FromResult(ExitCodes.Success);
            }

            var which = parse.GetValue(shell)
                ?? throw new DepotException(ErrorKind.Usage, "name the shell: depot completion bash, zsh or fish");
            var script = CompletionScript.For(which, parse.RootCommandResult.Command);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("shell", which);
                    w.WriteString("script", script);
                    w.WriteEndObject();
                });
            }
            else
            {
                console.Out.Write(script);
            }

            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }
}
