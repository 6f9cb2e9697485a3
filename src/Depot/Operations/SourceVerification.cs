using System.Collections.Concurrent;
using System.Diagnostics;
using Depot.Layout.Detection;
using Depot.Sources;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>Which half of a mirror <see cref="VerifyOperation"/> checks.</summary>
public enum VerifyParts
{
    /// <summary>The build cache, and the source mirror when the mirror holds one (and no spec queries were
    /// given).</summary>
    Both,

    /// <summary>Only the build cache.</summary>
    BuildCache,

    /// <summary>Only the source mirror.</summary>
    Sources,
}

/// <summary>What checking a source mirror found.</summary>
/// <param name="Checked">Archives whose bytes were checked against their names.</param>
/// <param name="Good">Of those, archives whose bytes match.</param>
/// <param name="NotCheckable">VCS checkouts, named by revision: listed, not checkable.</param>
/// <param name="Bytes">Bytes read.</param>
/// <param name="Failures">One per bad object, by key: an archive whose bytes differ from its name, or a key Spack
/// would not write.</param>
public sealed record SourceVerifyResult(int Checked, int Good, int NotCheckable, long Bytes,
    IReadOnlyList<EntryProblem> Failures)
{
    public bool Ok => Failures.Count == 0;
}

/// <summary>
/// The source half of <c>depot verify</c>: every archive under <c>_source-cache/archive/</c> read whole (streamed)
/// and hashed with the algorithm its name implies; keys Spack would not write are failures too. Needs a store that
/// lists (a source mirror has no index).
/// </summary>
internal static class SourceVerification
{
    /// <summary>
    /// True when the store can hold a source mirror Depot can check: it lists, and it is no registry (Spack fetches
    /// no sources from one).
    /// </summary>
    public static IStoreLister? Listable(IStoreReader store) =>
        store is IStoreLister lister && !BuildCache.HoldsOciLayout(store) ? lister : null;

    public static async Task<SourceVerifyResult> RunAsync(IStoreLister store, int parallelism,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var objects = await SourceMirror.ListAsync(store, cancellationToken).ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        var failures = new ConcurrentBag<EntryProblem>();
        foreach (var malformed in objects.Where(o => !o.IsWellFormed))
        {
            failures.Add(new EntryProblem(malformed.Key,
                $"{store.Describe(malformed.Key)}: {malformed.Problem} (Spack never fetches it)"));
        }

        var archives = objects.Where(o => o.IsCheckable).ToList();
        int done = 0, checkedCount = 0, bad = 0;
        long bytes = 0;
        await Parallel.ForEachAsync(archives,
            new ParallelOptions
            {
                MaxDegreeOfParallelism = Math.Max(1, parallelism),
                CancellationToken = cancellationToken,
            },
            async (archive, token) =>
            {
                try
                {
                    Interlocked.Add(ref bytes, await SourceMirror.CheckAsync(store, archive, token)
                        .ConfigureAwait(false));
                }
                catch (Exception e) when (e is IOException or HttpRequestException
                    || e is DepotException d && d.Kind.ConcernsOneEntry())
                {
                    Interlocked.Increment(ref bad);
                    failures.Add(e is DepotException failure ? EntryProblem.From(archive.Key, failure)
                        : new EntryProblem(archive.Key, ErrorKinds.MessageOf(e), ErrorKind.IO));
                }
                finally
                {
                    Interlocked.Increment(ref checkedCount);
                    progress?.Report(new OperationProgress("sources", Interlocked.Increment(ref done), archives.Count));
                }
            }).ConfigureAwait(false);

        // Parallel reports can arrive out of order: the last one a bar sees must be the whole count.
        progress?.Report(new OperationProgress("sources", archives.Count, archives.Count));
        return new SourceVerifyResult(checkedCount, checkedCount - bad,
            objects.Count(o => o.IsWellFormed && o.Kind == SourceObjectKind.Checkout), bytes,
            failures.OrderBy(f => f.Location, StringComparer.Ordinal).ToList());
    }
}
