using System.CommandLine;
using System.Globalization;
using Depot.InstallTree;
using Depot.Operations;
using Depot.Specs;

namespace Depot.Cli.Commands;

/// <summary>
/// <c>depot check MIRROR (--lock spack.lock | SPEC...)</c>: which specs, with their link/run closures, the mirror
/// lacks; exit 1 when any is missing.
/// </summary>
public static class CheckCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to check");
        var queries = CommonArguments.Queries(
            "Specs to check: name, name@version, /hashprefix; resolved in the lock file, else the install tree");
        var lockFile = new Option<string?>("--lock")
        {
            Description = "A Spack environment's spack.lock: its roots (or the specs named) are checked",
            HelpName = "FILE",
        };
        var tree = new Option<string?>("--install-tree")
        {
            Description = "Spack install tree that resolves the specs without --lock (default: $SPACK_ROOT/opt/spack)",
            HelpName = "PATH",
        };
        var rescan = new Option<bool>("--rescan")
        {
            Description = "Read every entry of the mirror instead of its index",
        };
        var json = CommonArguments.Json();
        var command = new Command("check",
            "Say which specs (with their link/run dependencies) a build cache lacks; exit 1 if any")
        {
            mirror, queries, lockFile, tree, rescan, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var name = parse.GetValue(mirror)!;
            var specs = (parse.GetValue(queries) ?? []).Select(SpecQuery.Parse).ToList();
            var lockPath = parse.GetValue(lockFile);
            if (lockPath is null && specs.Count == 0)
            {
                return console.Fail(parse, ErrorKind.Usage, "name the specs to check, or a lock file with --lock");
            }

            var installTree = lockPath is null
                ? InstallTreeLocator.Resolve(parse.GetValue(tree), console.Environment["SPACK_ROOT"]) : null;
            var source = console.Engine.Open(name, MirrorPurpose.Read);
            var options = new CheckOptions(specs, lockPath, installTree, parse.GetValue(rescan),
                console.Engine.IndexCache);
            var result = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                progress => CheckOperation.RunAsync(source, options, progress, token)).ConfigureAwait(false);
            var exit = result.Missing.Count > 0 ? ExitCodes.Failed : ExitCodes.Success;
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("mirror", name);
                    w.WriteString("source", result.Source);
                    w.WriteStartArray("missing");
                    foreach (var m in result.Missing)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", m.Name);
                        w.WriteString("version", m.Version);
                        w.WriteString("hash", m.Hash);
                        w.WriteStartArray("needed_by");
                        foreach (var by in m.NeededBy)
                        {
                            w.WriteStringValue(by);
                        }

                        w.WriteEndArray();
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteNumber("present", result.Present);
                    w.WriteNumber("checked", result.Checked);
                    JsonOutput.WriteProblems(w, "problems", result.Problems);
                    w.WriteEndObject();
                });
                return exit;
            }

            foreach (var problem in result.Problems)
            {
                console.Error.WriteLine("warning: " + HintText.WithHint(problem.Message, problem.Hint));
            }

            foreach (var m in result.Missing)
            {
                var spec = m.Version.Length > 0 ? $"{m.Name}@{m.Version}" : m.Name;
                console.Out.WriteLine($"missing {spec} /{m.Hash} (needed by {string.Join(", ", m.NeededBy)})");
            }

            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {result.Present} of {result.Checked} specs present, {result.Missing.Count} missing"));
            return exit;
        }));
        return command;
    }
}
