using Depot.Operations;
using Spectre.Console;

namespace Depot.Cli.Commands;

/// <summary>
/// Shows a long operation while it runs (<c>sign</c>, <c>verify</c>, <c>index</c>, <c>list --rescan</c>, <c>copy</c>):
/// on a terminal, a Spectre.Console bar per phase on stderr, cleared when done; with <c>--json</c> or when output is
/// redirected, nothing (the report at the end says it all).
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>Runs <paramref name="run"/> with a bar per phase (<see cref="OperationProgress.Phase"/>) when a
    /// person watches.</summary>
    public static async Task<T> RunAsync<T>(CliConsole console, bool json,
        Func<IProgress<OperationProgress>?, Task<T>> run)
    {
        if (json || !console.Interactive)
        {
            return await run(null).ConfigureAwait(false);
        }

        T result = default!;
        await Terminal(console).Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                result = await run(new Reporter<OperationProgress>(p =>
                {
                    if (!bars.TryGetValue(p.Phase, out var bar))
                    {
                        bar = context.AddTask(Markup.Escape(p.Phase), maxValue: Math.Max(1, p.Total));
                        bars[p.Phase] = bar;
                    }

                    bar.MaxValue = Math.Max(1, p.Total);
                    bar.Value = p.Done;
                })).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// A copy: a bar per entry being copied (bytes of its tarball) and one for the entries examined; outcome lines
    /// are printed as they come when nobody watches, and after the bars when a person does.
    /// </summary>
    public static async Task<CopyResult> CopyAsync(CliConsole console, bool json, Action<CopyOutcome> printOutcome,
        Func<IProgress<CopyProgress>, Task<CopyResult>> run)
    {
        if (json || !console.Interactive)
        {
            return await run(new Reporter<CopyProgress>(p =>
            {
                if (p.Outcome is { } outcome && !json)
                {
                    printOutcome(outcome);
                }
            })).ConfigureAwait(false);
        }

        var finished = new List<CopyOutcome>();
        CopyResult result = null!;
        await Terminal(console).Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var total = context.AddTask("[bold]entries[/]", maxValue: 1);
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                result = await run(new Reporter<CopyProgress>(p =>
                {
                    total.MaxValue = Math.Max(1, p.Entries);
                    total.Value = p.Examined;
                    if (p.Outcome is { } outcome)
                    {
                        finished.Add(outcome);
                        if (bars.Remove(p.Hash, out var done))
                        {
                            done.Value = done.MaxValue;
                            done.StopTask();
                        }

                        return;
                    }

                    if (!bars.TryGetValue(p.Hash, out var bar))
                    {
                        bar = context.AddTask(Markup.Escape($"{p.Name} /{p.Hash[..Math.Min(7, p.Hash.Length)]}"),
                            maxValue: Math.Max(1, p.Total));
                        bars[p.Hash] = bar;
                    }

                    bar.MaxValue = Math.Max(1, p.Total);
                    bar.Value = p.Done;
                })).ConfigureAwait(false);
                total.Value = total.MaxValue;
            }).ConfigureAwait(false);
        finished.ForEach(printOutcome);
        return result;
    }

    /// <summary>Spectre.Console on the CLI's stderr: progress never mixes with what stdout reports.</summary>
    private static IAnsiConsole Terminal(CliConsole console) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Error) });

    /// <summary>Reports on the caller's thread, one at a time and in order (Progress&lt;T&gt; would post them to the
    /// thread pool, after the run may have ended).</summary>
    private sealed class Reporter<T>(Action<T> handler) : IProgress<T>
    {
        private readonly Lock gate = new();

        public void Report(T value)
        {
            lock (gate)
            {
                handler(value);
            }
        }
    }
}
