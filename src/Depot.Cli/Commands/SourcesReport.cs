using System.Globalization;
using Depot.Sources;
using Spectre.Console;

namespace Depot.Cli.Commands;

/// <summary>
/// <c>push --sources</c> and <c>copy --sources</c> while they run and after: on a terminal, a bar of objects and one of
/// bytes (cleared when done); otherwise a line per object as it finishes; then the summary, or one JSON document.
/// </summary>
internal static class SourcesReport
{
    /// <summary>Runs the transfer with a display; <paramref name="verb"/> is what a transferred object is called
    /// (pushed, copied).</summary>
    public static async Task<SourceTransferResult> RunAsync(CliConsole console, bool json, string verb,
        Func<IProgress<SourceTransferProgress>, Task<SourceTransferResult>> run)
    {
        if (json || !console.Interactive)
        {
            return await run(new Reporter(p =>
            {
                if (p.Outcome is { } outcome && !json)
                {
                    WriteOutcome(console, verb, outcome);
                }
            })).ConfigureAwait(false);
        }

        var finished = new List<SourceTransferOutcome>();
        SourceTransferResult result = null!;
        await AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Error) }).Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var objects = context.AddTask("[bold]source objects[/]", maxValue: 1);
                var bytes = context.AddTask("[bold]bytes[/]", maxValue: 1);
                result = await run(new Reporter(p =>
                {
                    objects.MaxValue = Math.Max(1, p.Total);
                    objects.Value = p.Done;
                    bytes.MaxValue = Math.Max(1, p.BytesTotal);
                    bytes.Value = p.BytesDone;
                    if (p.Outcome is { } outcome)
                    {
                        finished.Add(outcome);
                    }
                })).ConfigureAwait(false);
                objects.Value = objects.MaxValue;
                bytes.Value = bytes.MaxValue;
            }).ConfigureAwait(false);
        finished.ForEach(o => WriteOutcome(console, verb, o));
        return result;
    }

    /// <summary>Runs the transfer with a display, then prints the summary or the JSON document; returns the exit
    /// code.</summary>
    public static async Task<int> FinishAsync(CliConsole console, bool json, string verb,
        Func<IProgress<SourceTransferProgress>, Task<SourceTransferResult>> run)
    {
        var result = await RunAsync(console, json, verb, run).ConfigureAwait(false);
        if (json)
        {
            WriteJson(console.Out, verb, result);
        }
        else
        {
            WriteSummary(console, verb, result);
        }

        return result.AnyFailed ? ExitCodes.Failed : ExitCodes.Success;
    }

    /// <summary>The summary line.</summary>
    public static void WriteSummary(CliConsole console, string verb, SourceTransferResult result) =>
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.Source} -> {result.Destination}: {verb} {result.Count(SourceTransferStatus.Transferred)} "
            + $"source objects ({Size(result.BytesTransferred)}), skipped "
            + $"{result.Count(SourceTransferStatus.SkippedExists)} existing and "
            + $"{result.Count(SourceTransferStatus.SkippedMalformed)} not named as Spack names sources, failed "
            + $"{result.Count(SourceTransferStatus.Failed)} in {result.Elapsed.TotalSeconds:0.00} s"));

    /// <summary>The JSON document.</summary>
    public static void WriteJson(TextWriter output, string verb, SourceTransferResult result) =>
        JsonOutput.Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("source", result.Source);
            w.WriteString("destination", result.Destination);
            w.WriteNumber("bytes", result.BytesTransferred);
            w.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
            w.WriteStartObject("counts");
            foreach (var status in Enum.GetValues<SourceTransferStatus>())
            {
                w.WriteNumber(StatusName(verb, status), result.Count(status));
            }

            w.WriteEndObject();
            w.WriteStartArray("objects");
            foreach (var o in result.Outcomes)
            {
                w.WriteStartObject();
                w.WriteString("key", o.Key);
                w.WriteString("status", StatusName(verb, o.Status));
                w.WriteNumber("bytes", o.Bytes);
                if (o.Reason is not null)
                {
                    w.WriteString("reason", o.Reason);
                }

                if (o.Kind is { } kind)
                {
                    w.WriteString("kind", kind.Name());
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });

    private static void WriteOutcome(CliConsole console, string verb, SourceTransferOutcome o)
    {
        var label = o.Status switch
        {
            SourceTransferStatus.Transferred => verb,
            SourceTransferStatus.SkippedExists => "exists",
            SourceTransferStatus.SkippedMalformed => "skipped",
            _ => "FAILED",
        };
        var line = o.Status == SourceTransferStatus.Transferred ? $"{label,-8} {o.Key}  {Size(o.Bytes)}"
            : $"{label,-8} {o.Key}{(o.Reason is null ? "" : ": " + o.Reason)}";
        (o.Status == SourceTransferStatus.Failed ? console.Error : console.Out).WriteLine(line);
    }

    private static string StatusName(string verb, SourceTransferStatus status) => status switch
    {
        SourceTransferStatus.Transferred => verb,
        SourceTransferStatus.SkippedExists => "skipped_exists",
        SourceTransferStatus.SkippedMalformed => "skipped_malformed",
        _ => "failed",
    };

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:0.00} GiB"),
    };

    /// <summary>Reports on the caller's thread, one at a time (the transfer reports from its parallel
    /// copies).</summary>
    private sealed class Reporter(Action<SourceTransferProgress> handler) : IProgress<SourceTransferProgress>
    {
        private readonly Lock gate = new();

        public void Report(SourceTransferProgress value)
        {
            lock (gate)
            {
                handler(value);
            }
        }
    }
}
