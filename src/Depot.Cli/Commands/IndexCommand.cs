using System.CommandLine;
using System.Globalization;
using Depot.Operations;

namespace Depot.Cli.Commands;

/// <summary><c>depot index MIRROR</c>: (re)builds the index the way Spack writes it, incrementally.</summary>
public static class IndexCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror();
        var full = new Option<bool>("--full") { Description = "Read every entry instead of reusing the current index" };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Entries read in parallel", DefaultValueFactory = _ => 16 };
        var command = new Command("index", "Rebuild a build cache's index (incremental; Spack reads the result)")
        {
            mirror, full, jobs,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            // Read connection, as Depot has always indexed through it.
            var target = console.Engine.Open(parse.GetValue(mirror)!, MirrorPurpose.Read);
            var options = new IndexOptions(parse.GetValue(full), Math.Max(1, parse.GetValue(jobs)),
                console.Engine.IndexCache);
            var results = await IndexOperation.RunAsync(target, options, null, token).ConfigureAwait(false);
            var problems = 0;
            foreach (var r in results)
            {
                if (r.PreviousIndexIssue is { } issue)
                {
                    console.Warn(issue);
                }

                foreach (var p in r.Problems)
                {
                    console.Warn(p.Message);
                }

                problems += r.Problems.Count;
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"layout v{r.LayoutVersion}: indexed {r.Specs} specs ({r.Records} records) in {r.IndexKey}: {r.Read} read, {r.Reused} reused, {r.Removed} removed{(r.FullRebuild ? ", full rebuild" : "")}, {r.Problems.Count} skipped, {r.Elapsed.TotalSeconds:0.00} s"));
            }

            return problems > 0 ? ExitCodes.CompletedWithProblems : ExitCodes.Success;
        }));
        return command;
    }
}
