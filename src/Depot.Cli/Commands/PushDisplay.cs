using Depot.Operations;
using Spectre.Console;

namespace Depot.Cli.Commands;

/// <summary>
/// Shows a push while it runs: on a terminal, one Spectre.Console bar per active package plus a total; otherwise a
/// log line per package as it finishes (the report at the end then adds only the summary).
/// </summary>
internal static class PushDisplay
{
    /// <summary>
    /// Runs the push with a display. When its last step (key, index, tag) fails, the report of what was pushed is
    /// printed first — the text, or the <c>--json</c> document with the error inside — and the error follows.
    /// </summary>
    public static async Task<PushResult> RunAsync(CliConsole console, bool json,
        Func<IProgress<PushProgress>, Task<PushResult>> run)
    {
        var printed = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            return await ShowAsync(console, json, run, printed).ConfigureAwait(false);
        }
        catch (IncompleteRunException<PushResult> e) when (json)
        {
            PushReport.WriteJson(console.Out, e.Result, e);
            throw new ErrorReportedException(ExitCodes.For(e.Kind));
        }
        catch (IncompleteRunException<PushResult> e)
        {
            PushReport.WriteText(console, e.Result, printed);
            throw; // then the error line
        }
    }

    private static async Task<PushResult> ShowAsync(CliConsole console, bool json,
        Func<IProgress<PushProgress>, Task<PushResult>> run, HashSet<string> printed)
    {
        if (json)
        {
            return await run(new SyncProgress(_ => { })).ConfigureAwait(false);
        }

        if (!console.Interactive)
        {
            var result = await run(new SyncProgress(p =>
            {
                if (p.Finished is { } outcome)
                {
                    printed.Add(outcome.Hash);
                    PushReport.WriteOutcome(console, outcome);
                }
            })).ConfigureAwait(false);
            PushReport.WriteText(console, result, printed);
            return result;
        }

        var terminal = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        PushResult? done = null;
        await terminal.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var total = context.AddTask("[bold]total[/]", maxValue: 1);
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var sizes = new Dictionary<string, (long Done, long Total)>(StringComparer.Ordinal);
                done = await run(new SyncProgress(p =>
                {
                    if (p.Finished is not null)
                    {
                        if (bars.Remove(p.Hash, out var finished))
                        {
                            finished.Value = finished.MaxValue;
                            finished.StopTask();
                            finished.IsIndeterminate = false;
                        }

                        total.Increment(0);
                        return;
                    }

                    if (!bars.TryGetValue(p.Hash, out var bar))
                    {
                        bar = context.AddTask(Markup.Escape($"{p.Name} /{p.Hash[..7]}"),
                            maxValue: Math.Max(1, p.Total));
                        bars[p.Hash] = bar;
                    }

                    bar.Value = p.Done;
                    sizes[p.Hash] = (p.Done, p.Total);
                    total.MaxValue = Math.Max(1, sizes.Values.Sum(s => s.Total));
                    total.Value = sizes.Values.Sum(s => s.Done);
                })).ConfigureAwait(false);
                total.Value = total.MaxValue;
            }).ConfigureAwait(false);
        PushReport.WriteText(console, done!, new HashSet<string>());
        return done!;
    }

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; would post them to the thread
    /// pool).</summary>
    private sealed class SyncProgress(Action<PushProgress> handler) : IProgress<PushProgress>
    {
        private readonly Lock gate = new();

        public void Report(PushProgress value)
        {
            lock (gate)
            {
                handler(value);
            }
        }
    }
}
