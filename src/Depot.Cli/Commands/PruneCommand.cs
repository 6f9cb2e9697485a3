using System.CommandLine;
using Depot.Operations;

namespace Depot.Cli.Commands;

/// <summary>
/// <c>depot prune MIRROR [--yes] [--grace 1h] [--keep-last N] [--older-than 90d] [--keep FILE...]</c>: orphans, and
/// with retention rules old entries, never a dependency of what stays. A dry run unless <c>--yes</c>.
/// </summary>
public static class PruneCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to prune");
        var dryRun = new Option<bool>("--dry-run") { Description = "Only print what would go (the default)" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Delete what the dry run prints, then re-index" };
        var grace = new Option<string?>("--grace")
        {
            Description = "Never touch blobs, temporaries or broken entries younger than this (default: 1h)",
            HelpName = "DURATION",
        };
        var keepLast = new Option<int?>("--keep-last")
        {
            Description = "Retention: per package, keep the N most recently pushed versions",
            HelpName = "N",
        };
        var olderThan = new Option<string?>("--older-than")
        {
            Description = "Retention: entries pushed longer ago than this may go (90d, 8w, 12h)",
            HelpName = "DURATION",
        };
        var keep = new Option<string[]>("--keep")
        {
            Description = "Keep these specs and their link/run closures: Spack lock files or lists of hashes",
            HelpName = "FILE",
            AllowMultipleArgumentsPerToken = true,
        };
        var jobs = CommonArguments.Jobs("Reads and deletes in parallel", "32");
        var json = CommonArguments.Json();
        var command = new Command("prune",
            "Remove orphaned objects (and, with --keep-last/--older-than, old entries) from a build cache")
        {
            mirror, dryRun, yes, grace, keepLast, olderThan, keep, jobs, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            if (parse.GetValue(yes) && parse.GetValue(dryRun))
            {
                return console.Fail(parse, ErrorKind.Usage, "--yes and --dry-run contradict each other");
            }

            if (parse.GetValue(keepLast) is < 1)
            {
                return console.Fail(parse, ErrorKind.Usage, "--keep-last takes a whole number from 1");
            }

            var keepFiles = parse.GetValue(keep) ?? [];
            var options = new PruneOptions(parse.GetValue(yes),
                parse.GetValue(grace) is { } g ? PruneDisplay.ParseDuration("--grace", g) : null,
                parse.GetValue(keepLast),
                parse.GetValue(olderThan) is { } o ? PruneDisplay.ParseDuration("--older-than", o) : null,
                keepFiles.Length > 0 ? await KeepFiles.ReadAsync(keepFiles, token).ConfigureAwait(false) : null,
                parse.GetValue(jobs) ?? 32, console.Engine.IndexCache);
            if (keepFiles.Length > 0 && !options.HasRetention)
            {
                return console.Fail(parse, ErrorKind.Usage,
                    "--keep only protects entries from --keep-last or --older-than; give one of them");
            }

            var name = parse.GetValue(mirror)!;
            var target = console.Engine.Open(name, MirrorPurpose.Read);
            var result = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                progress => PruneOperation.RunAsync(target, options, progress, token)).ConfigureAwait(false);
            Timings(console, result);
            return PruneDisplay.Print(console, name, result, parse.GetValue(json), "--yes removes them");
        }));
        return command;
    }

    // Where the time goes (bench/ and bug reports), as depot index prints it.
    internal static void Timings(CliConsole console, PruneResult result)
    {
        if (console.Environment["DEPOT_TIMINGS"] == "1")
        {
            foreach (var phase in result.Phases)
            {
                console.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"  {phase.Name}: {phase.Elapsed.TotalMilliseconds:0} ms"));
            }
        }
    }
}
