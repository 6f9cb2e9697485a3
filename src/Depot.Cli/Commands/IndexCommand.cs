using System.CommandLine;
using System.Globalization;
using Depot.Operations;

namespace Depot.Cli.Commands;

/// <summary><c>depot index MIRROR</c>: (re)builds the index the way Spack writes it, incrementally.</summary>
public static class IndexCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to index");
        var full = new Option<bool>("--full") { Description = "Read every entry instead of reusing the current index" };
        var jobs = CommonArguments.Jobs("Entries read in parallel", "16");
        var json = CommonArguments.Json();
        var command = new Command("index", "Rebuild a build cache's index (incremental; Spack reads the result)")
        {
            mirror, full, jobs, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            // Read connection, as Depot has always indexed through it.
            var target = console.Engine.Open(parse.GetValue(mirror)!, MirrorPurpose.Read);
            var options = new IndexOptions(parse.GetValue(full), parse.GetValue(jobs) ?? 16,
                console.Engine.IndexCache);
            var results = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                progress => IndexOperation.RunAsync(target, options, progress, token)).ConfigureAwait(false);
            var problems = results.Sum(r => r.Problems.Count);
            if (console.Environment["DEPOT_TIMINGS"] == "1")
            {
                // Where the time goes (for bench/ and bug reports).
                foreach (var phase in results.SelectMany(r => r.Phases))
                {
                    console.Error.WriteLine(
                        string.Create(CultureInfo.InvariantCulture,
                            $"  {phase.Name}: {phase.Elapsed.TotalMilliseconds:0} ms"));
                }
            }

            if (parse.GetValue(json))
            {
                WriteJson(console.Out, results);
                return problems > 0 ? ExitCodes.CompletedWithProblems : ExitCodes.Success;
            }

            foreach (var r in results)
            {
                if (r.PreviousIndexIssue is { } issue)
                {
                    console.Warn(issue);
                }

                foreach (var p in r.Problems)
                {
                    console.Warn(p);
                }

                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"layout v{r.LayoutVersion}: indexed {r.Specs} specs ({r.Records} records) in {r.IndexKey}: "
                    + $"{r.Read} read, {r.Reused} reused, {r.Removed} "
                    + $"removed{(r.FullRebuild ? ", full rebuild" : "")}, {r.Problems.Count} skipped, "
                    + $"{r.Elapsed.TotalSeconds:0.00} s"));
            }

            return problems > 0 ? ExitCodes.CompletedWithProblems : ExitCodes.Success;
        }));
        return command;
    }

    private static void WriteJson(TextWriter output, IReadOnlyList<IndexResult> results)
    {
        JsonOutput.Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("layouts");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteNumber("layout", r.LayoutVersion);
                w.WriteString("index", r.IndexKey);
                w.WriteNumber("specs", r.Specs);
                w.WriteNumber("records", r.Records);
                w.WriteNumber("read", r.Read);
                w.WriteNumber("reused", r.Reused);
                w.WriteNumber("removed", r.Removed);
                w.WriteBoolean("full_rebuild", r.FullRebuild);
                w.WriteNumber("seconds", Math.Round(r.Elapsed.TotalSeconds, 3));
                if (r.PreviousIndexIssue is { } issue)
                {
                    w.WriteString("previous_index_issue", issue);
                }

                JsonOutput.WriteProblems(w, "problems", r.Problems);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }
}
