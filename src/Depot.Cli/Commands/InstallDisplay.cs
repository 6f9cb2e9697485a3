using Depot.Operations;
using Spectre.Console;

namespace Depot.Cli.Commands;

/// <summary>
/// Shows an install while it runs: on a terminal, a Spectre.Console line per active package with its phase and a
/// total bar; otherwise nothing until the report (whose lines carry each package's phase times).
/// </summary>
internal static class InstallDisplay
{
    /// <summary>
    /// Runs the install with a display. When it is cancelled while installing, what finished and what did not is
    /// printed first — the report, or the <c>--json</c> document with a <c>cancelled</c> error inside — and the run
    /// still ends as cancelled (exit code 130).
    /// </summary>
    public static async Task<InstallResult> RunAsync(CliConsole console, bool json, InstallTarget target,
        Func<IProgress<InstallProgress>?, Task<InstallResult>> run)
    {
        try
        {
            return await ShowAsync(console, json, run).ConfigureAwait(false);
        }
        catch (InstallCancelledException e) when (json)
        {
            InstallReport.WriteJson(console.Out, e.Result, cancelled: true);
            throw new ErrorReportedException(ExitCodes.Cancelled);
        }
        catch (InstallCancelledException e)
        {
            InstallReport.WriteText(console, e.Result, target);
            throw; // then "depot: cancelled"
        }
    }

    private static async Task<InstallResult> ShowAsync(CliConsole console, bool json,
        Func<IProgress<InstallProgress>?, Task<InstallResult>> run)
    {
        if (json || !console.Interactive)
        {
            return await run(null).ConfigureAwait(false);
        }

        var terminal = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        InstallResult? done = null;
        await terminal.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var total = context.AddTask("[bold]packages[/]", maxValue: 1);
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var gate = new Lock();
                done = await run(new Progress(p =>
                {
                    lock (gate)
                    {
                        if (!bars.TryGetValue(p.Hash, out var bar))
                        {
                            bar = context.AddTask(Markup.Escape($"{p.Name} /{p.Hash[..7]}"), maxValue: 4);
                            bar.IsIndeterminate = false;
                            bars[p.Hash] = bar;
                            total.MaxValue = bars.Count;
                        }

                        bar.Description = Markup.Escape($"{p.Name} /{p.Hash[..7]}: {p.Phase}");
                        bar.Increment(1);
                        if (p.Finished is not null)
                        {
                            bar.Value = bar.MaxValue;
                            bar.StopTask();
                            total.Increment(1);
                        }
                    }
                })).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return done!;
    }

    private sealed class Progress(Action<InstallProgress> handler) : IProgress<InstallProgress>
    {
        public void Report(InstallProgress value) => handler(value);
    }
}
