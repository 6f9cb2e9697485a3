using System.CommandLine;
using Depot.Operations;
using Depot.Specs;

namespace Depot.Cli.Commands;

/// <summary>
/// <c>depot rm MIRROR SPEC... [--force] [--dry-run]</c>: removes the named entries at once (as <c>spack
/// buildcache</c> verbs act: naming the specs is the confirmation), refusing one an entry that stays depends on.
/// </summary>
public static class RmCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to remove entries from");
        var specs = new Argument<string[]>("spec")
        {
            Description = "Entries to remove, each matching one spec: name, name@version, /hashprefix",
            Arity = ArgumentArity.OneOrMore,
        };
        var force = new Option<bool>("--force", "-f")
        {
            Description = "Remove them even when an entry that stays depends on one",
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only print what would go" };
        var jobs = CommonArguments.Jobs("Reads and deletes in parallel", "32");
        var json = CommonArguments.Json();
        var command = new Command("rm", "Remove entries (and the blobs only they used) from a build cache")
        {
            mirror, specs, force, dryRun, jobs, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var options = new RmOptions((parse.GetValue(specs) ?? []).Select(SpecQuery.Parse).ToList(),
                parse.GetValue(force), parse.GetValue(dryRun), parse.GetValue(jobs) ?? 32, console.Engine.IndexCache);
            var name = parse.GetValue(mirror)!;
            var target = console.Engine.Open(name, MirrorPurpose.Read);
            var result = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                progress => RmOperation.RunAsync(target, options, progress, token)).ConfigureAwait(false);
            return PruneDisplay.Print(console, name, result, parse.GetValue(json),
                "run without --dry-run to remove them");
        }));
        return command;
    }
}
