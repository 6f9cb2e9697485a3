using System.Collections.Concurrent;
using Depot.Layout;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>Something that was skipped: where, and a complete one-line message saying what and why.</summary>
public sealed record EntryProblem(string Location, string Message);

/// <summary>Reads many spec entries in parallel; a bad entry becomes a problem, not a failure of the whole run.</summary>
internal static class EntryReader
{
    public static async Task<(List<(SpecEntry Entry, SpecFile Spec)> Read, List<EntryProblem> Problems)> ReadAllAsync(
        IBuildCacheLayout layout, IReadOnlyList<SpecEntry> entries, int parallelism, IProgress<OperationProgress>? progress,
        string phase, CancellationToken cancellationToken)
    {
        var read = new ConcurrentBag<(int Order, SpecEntry Entry, SpecFile Spec)>();
        var problems = new ConcurrentBag<EntryProblem>();
        var done = 0;
        var indexed = entries.Select((e, i) => (Entry: e, Order: i));
        await Parallel.ForEachAsync(indexed,
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (item, ct) =>
            {
                try
                {
                    var spec = await layout.ReadSpecAsync(item.Entry, ct).ConfigureAwait(false);
                    read.Add((item.Order, item.Entry, spec));
                }
                catch (DepotException e)
                {
                    problems.Add(new EntryProblem(layout.Store.Describe(item.Entry.Key), "skipped entry: " + e.Message));
                }

                progress?.Report(new OperationProgress(phase, Interlocked.Increment(ref done), entries.Count));
            }).ConfigureAwait(false);

        return (read.OrderBy(r => r.Order).Select(r => (r.Entry, r.Spec)).ToList(),
            problems.OrderBy(p => p.Location, StringComparer.Ordinal).ToList());
    }
}
