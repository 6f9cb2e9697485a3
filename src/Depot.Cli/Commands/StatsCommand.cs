using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Depot.Operations;

namespace Depot.Cli.Commands;

/// <summary><c>depot stats MIRROR [--top N]</c>: what a build cache holds and how much space it takes.</summary>
public static class StatsCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to count");
        var top = new Option<int?>("--top")
        {
            Description = "How many of the largest packages to name (default: 10)",
            HelpName = "N",
        };
        top.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0 or > 100_000)
            {
                result.AddError("--top takes a whole number from 0 to 100000");
            }
        });
        var jobs = CommonArguments.Jobs("Entries read in parallel where sizes need a read", "16");
        var json = CommonArguments.Json();
        var command = new Command("stats",
            "Count a build cache: specs, packages, architectures, compilers, sizes, largest, oldest and newest")
        {
            mirror, top, jobs, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var name = parse.GetValue(mirror)!;
            var source = console.Engine.Open(name, MirrorPurpose.Read);
            var options = new StatsOptions(parse.GetValue(top) ?? 10, parse.GetValue(jobs) ?? 16);
            var result = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                progress => StatsOperation.RunAsync(source, options, progress, token)).ConfigureAwait(false);
            var exit = result.Problems.Count > 0 ? ExitCodes.CompletedWithProblems : ExitCodes.Success;
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("mirror", name);
                    w.WriteStartArray("layouts");
                    foreach (var layout in result.Layouts)
                    {
                        WriteLayout(w, layout);
                    }

                    w.WriteEndArray();
                    w.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
                    JsonOutput.WriteProblems(w, "problems", result.Problems);
                    w.WriteEndObject();
                });
                return exit;
            }

            foreach (var problem in result.Problems)
            {
                console.Error.WriteLine("warning: " + HintText.WithHint(problem.Message, problem.Hint));
            }

            foreach (var layout in result.Layouts)
            {
                PrintLayout(console.Out, name, layout);
            }

            return exit;
        }));
        return command;
    }

    private static void PrintLayout(TextWriter output, string mirror, LayoutStats s)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"{mirror} (layout {s.Layout}{(s.FromIndex ? "" : ", no index")}): "
            + $"{s.Specs} specs of {s.Packages} packages"));
        output.WriteLine(string.Create(c, $"  size:          {ByteSize.Format(s.TotalBytes)} in {s.Entries} entries, "
            + $"{ByteSize.Format(s.UniqueBytes)} stored (shared objects counted once)"));
        output.WriteLine("  architectures: " + string.Join(", ", s.Architectures.Select(a => $"{a.Name} ({a.Count})")));
        output.WriteLine("  compilers:     " + string.Join(", ", s.Compilers.Select(a => $"{a.Name} ({a.Count})")));
        if (s.Oldest is { } oldest && s.Newest is { } newest)
        {
            output.WriteLine($"  oldest:        {Dated(oldest)}");
            output.WriteLine($"  newest:        {Dated(newest)}");
        }

        if (s.Largest.Count > 0)
        {
            output.WriteLine("  largest (tarball):");
            foreach (var f in s.Largest)
            {
                output.WriteLine($"    {ByteSize.Format(f.TarballBytes),10}  {Spec(f)}");
            }
        }
    }

    private static string Spec(EntryFigure f) =>
        (f.Version.Length > 0 ? $"{f.Name}@{f.Version}" : f.Name) + $" /{f.Hash[..7]}";

    private static string Dated(EntryFigure f) =>
        f.LastModified!.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)
        + "  " + Spec(f);

    private static void WriteLayout(Utf8JsonWriter w, LayoutStats s)
    {
        w.WriteStartObject();
        w.WriteString("layout", s.Layout);
        w.WriteBoolean("from_index", s.FromIndex);
        w.WriteNumber("specs", s.Specs);
        w.WriteNumber("packages", s.Packages);
        w.WriteNumber("entries", s.Entries);
        w.WriteNumber("total_bytes", s.TotalBytes);
        w.WriteNumber("unique_bytes", s.UniqueBytes);
        WriteCounts(w, "architectures", s.Architectures);
        WriteCounts(w, "compilers", s.Compilers);
        w.WriteStartArray("largest");
        foreach (var f in s.Largest)
        {
            WriteFigure(w, f);
        }

        w.WriteEndArray();
        w.WritePropertyName("oldest");
        WriteFigureOrNull(w, s.Oldest);
        w.WritePropertyName("newest");
        WriteFigureOrNull(w, s.Newest);
        w.WriteEndObject();
    }

    private static void WriteCounts(Utf8JsonWriter w, string name, IReadOnlyList<NamedCount> counts)
    {
        w.WriteStartArray(name);
        foreach (var count in counts)
        {
            w.WriteStartObject();
            w.WriteString("name", count.Name);
            w.WriteNumber("count", count.Count);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteFigureOrNull(Utf8JsonWriter w, EntryFigure? f)
    {
        if (f is null)
        {
            w.WriteNullValue();
        }
        else
        {
            WriteFigure(w, f);
        }
    }

    private static void WriteFigure(Utf8JsonWriter w, EntryFigure f)
    {
        w.WriteStartObject();
        w.WriteString("name", f.Name);
        w.WriteString("version", f.Version);
        w.WriteString("hash", f.Hash);
        w.WriteNumber("tarball_bytes", f.TarballBytes);
        w.WriteNumber("bytes", f.Bytes);
        if (f.LastModified is { } when)
        {
            w.WriteString("last_modified", when.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ",
                CultureInfo.InvariantCulture));
        }

        w.WriteEndObject();
    }
}
