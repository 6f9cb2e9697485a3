using System.Collections.Concurrent;
using Depot.Layout;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>Something that was skipped or failed: where, a complete one-line message saying what and why, its kind,
/// and what would fix it.</summary>
/// <param name="Location">The entry's key or location.</param>
/// <param name="Message">One line naming the entry and what is wrong.</param>
/// <param name="Kind">What sort of problem it is.</param>
/// <param name="Hint">What would fix it, for the host to render; null when nothing to say.</param>
public sealed record EntryProblem(string Location, string Message, ErrorKind Kind = ErrorKind.InvalidContent,
    ErrorHint? Hint = null)
{
    /// <summary>The problem <paramref name="error"/> makes at <paramref name="location"/>.</summary>
    public static EntryProblem From(string location, DepotException error) =>
        new(location, error.Message, error.Kind, error.Hint);

    /// <summary>The message.</summary>
    public override string ToString() => Message;
}

/// <summary>Reads many spec entries in parallel; a bad entry becomes a problem, not a failure of the whole
/// run.</summary>
internal static class EntryReader
{
    public static async Task<(List<(SpecEntry Entry, SpecFile Spec)> Read, List<EntryProblem> Problems)> ReadAllAsync(
        IBuildCacheLayout layout, IReadOnlyList<SpecEntry> entries, int parallelism,
        IProgress<OperationProgress>? progress, string phase, CancellationToken cancellationToken)
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
                catch (DepotException e) when (e.Kind.ConcernsOneEntry())
                {
                    problems.Add(new EntryProblem(layout.Store.Describe(item.Entry.Key), "skipped entry: " + e.Message,
                        e.Kind, e.Hint));
                }

                progress?.Report(new OperationProgress(phase, Interlocked.Increment(ref done), entries.Count));
            }).ConfigureAwait(false);

        return (read.OrderBy(r => r.Order).Select(r => (r.Entry, r.Spec)).ToList(),
            problems.OrderBy(p => p.Location, StringComparer.Ordinal).ToList());
    }
}
