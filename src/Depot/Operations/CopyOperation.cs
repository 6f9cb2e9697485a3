using System.Diagnostics;
using Depot.Layout;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>Options of <see cref="CopyOperation"/>.</summary>
/// <remarks>The destination's layout and the key that signs entries rewritten in another layout are the destination
/// mirror's (<see cref="Mirror.GetWriteLayoutAsync"/>, <see cref="Mirror.Signing"/>), chosen when it was opened.
/// </remarks>
/// <param name="Queries">Only these specs (all when empty).</param>
/// <param name="Parallelism">Entries copied at once.</param>
/// <param name="Force">Copy entries the destination holds already.</param>
/// <param name="UpdateIndex">Update the destination's index (and publish the key) at the end.</param>
/// <param name="IndexCache">Where index record tables are cached between runs (null: none).</param>
public sealed record CopyOptions(IReadOnlyList<SpecQuery> Queries, int Parallelism = 4, bool Force = false,
    bool UpdateIndex = true, IndexCache? IndexCache = null);

public enum CopyStatus
{
    /// <summary>Copied byte for byte (same layout: the original signature is kept).</summary>
    Copied,

    /// <summary>Rewritten in the destination's layout (signed with the copying key, if any).</summary>
    Converted,

    SkippedExists,
    Failed,
}

public sealed record CopyOutcome(string Name, string Hash, string Display, CopyStatus Status, string? Reason = null,
    long Bytes = 0)
{
    /// <summary>What would change the outcome (trust the source's key, overwrite), for the host to render.</summary>
    public ErrorHint? Hint { get; init; }
}

/// <summary>One entry's progress (bytes of its tarball), or (once) its outcome.</summary>
public sealed record CopyProgress(string Name, string Hash, long Done, long Total, CopyOutcome? Outcome = null)
{
    /// <summary>Entries of the source looked at so far (copied, skipped, failed or not matching the queries).</summary>
    public int Examined { get; init; }

    /// <summary>Entries the source holds: what <see cref="Examined"/> counts up to.</summary>
    public int Entries { get; init; }
}

public sealed record CopyResult(string Source, string Destination, PushLayout Layout,
    IReadOnlyList<CopyOutcome> Outcomes, string? PublishedKey, IndexResult? Index, TimeSpan Elapsed)
{
    /// <summary>
    /// True when the destination is a Depot server, which updated its index as each entry was committed.
    /// </summary>
    public bool IndexedByServer { get; init; }

    public int Count(CopyStatus status) => Outcomes.Count(o => o.Status == status);

    public bool AnyFailed => Outcomes.Any(o => o.Status == CopyStatus.Failed);
}

/// <summary>
/// <c>depot copy SRC DST</c>: every entry of one mirror into another (directory, bucket, registry, in any direction),
/// verified on the way — signature under the source's trust policy, spec checksum, and the tarball's sha256 as it
/// streams — skipping what the destination holds. Between equal layouts entries are copied byte for byte, keeping
/// their signatures; across layouts they are rewritten as push would write them, and signed with the copying key.
/// The destination's index is updated at the end.
/// </summary>
public static class CopyOperation
{
    /// <summary>
    /// Copies <paramref name="sourceMirror"/> (opened for reading: entries are checked under its trust policy) into
    /// <paramref name="destinationMirror"/> (opened for writing: its layout choice and signing key).
    /// </summary>
    public static async Task<CopyResult> RunAsync(Mirror sourceMirror, Mirror destinationMirror, CopyOptions options,
        IProgress<CopyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sourceMirror);
        var from = (await sourceMirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false))[0];
        return await RunAsync(sourceMirror, from, destinationMirror, options, progress, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Copies the entries of one layout of <paramref name="sourceMirror"/>, <paramref name="from"/>, into
    /// <paramref name="destinationMirror"/>: a mirror that holds two layouts, or one migrated into itself.
    /// </summary>
    internal static async Task<CopyResult> RunAsync(Mirror sourceMirror, IBuildCacheLayout from,
        Mirror destinationMirror, CopyOptions options, IProgress<CopyProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sourceMirror);
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(destinationMirror);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var source = sourceMirror.Store;
        var destination = destinationMirror.Store;
        var trust = await sourceMirror.GetTrustAsync(cancellationToken).ConfigureAwait(false);
        var keyToPublish = destinationMirror.Signing.Published;
        var layout = await destinationMirror.GetWriteLayoutAsync(cancellationToken).ConfigureAwait(false);
        var writer = await EntryWriting.OpenAsync(destinationMirror, layout,
            new EntryWriterOptions(destinationMirror.Signing.Key), cancellationToken).ConfigureAwait(false);
        var entries = await from.ListSpecEntriesAsync(cancellationToken).ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        var outcomes = new CopyOutcome?[entries.Count];
        var examined = 0;
        var counted = progress is null ? null : new CountedProgress(progress, () => Volatile.Read(ref examined),
            entries.Count);
        await Parallel.ForEachAsync(Enumerable.Range(0, entries.Count),
            new ParallelOptions
            {
                MaxDegreeOfParallelism = Math.Max(1, options.Parallelism),
                CancellationToken = cancellationToken,
            },
            async (i, token) =>
            {
                var entry = entries[i];
                try
                {
                    outcomes[i] = await CopyEntryAsync(from, entry, trust, writer, options, counted, token)
                        .ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or HttpRequestException || e is DepotException d
                    && d.Kind.ConcernsOneEntry())
                {
                    var stem = entry.DisplayName.Split('/')[0];
                    outcomes[i] = new CopyOutcome(stem, entry.Hash, stem, CopyStatus.Failed,
                        e is SignatureException or InvalidContentException
                            ? trust.Explain(entry.DisplayName, (DepotException)e) : ErrorKinds.MessageOf(e))
                    {
                        Hint = e is DepotException failure ? trust.HintFor(failure) : null,
                    };
                }

                Interlocked.Increment(ref examined);
                if (outcomes[i] is { } done && (!writer.CompletesLater || done.Status != CopyStatus.Converted))
                {
                    counted?.Report(new CopyProgress(done.Name, done.Hash, 0, 0, done));
                }
            }).ConfigureAwait(false);

        var parallelism = Math.Max(1, options.Parallelism);
        var failed = await writer.CompleteAsync(parallelism, cancellationToken).ConfigureAwait(false);
        if (writer.CompletesLater)
        {
            for (var i = 0; i < outcomes.Length; i++)
            {
                if (outcomes[i] is { Status: CopyStatus.Converted } o)
                {
                    // An image is complete only now: report it (or why it could not be written).
                    outcomes[i] = failed.TryGetValue(o.Hash, out var error)
                        ? o with { Status = CopyStatus.Failed, Reason = error } : o;
                    counted?.Report(new CopyProgress(o.Name, o.Hash, 0, 0, outcomes[i]));
                }
            }
        }

        var all = outcomes.Where(o => o is not null).Select(o => o!).ToList();
        string? published = null;
        IndexResult? index = null;
        if (options.UpdateIndex && !writer.ServerUpdatesIndex
            && all.Any(o => o.Status is CopyStatus.Copied or CopyStatus.Converted))
        {
            // The copying key signed only converted entries; copied ones keep their own signatures (and keys).
            // Reported with the entries even when it fails: the user sees what was copied before the error.
            var key = all.Any(o => o.Status == CopyStatus.Converted) ? keyToPublish : null;
            try
            {
                await writer.FinishAsync(key is null ? [] : [key], cancellationToken).ConfigureAwait(false);
                published = key?.Fingerprint;
                index = await IndexOperation.IndexLayoutAsync(writer.Layout,
                    new IndexOptions(Cache: options.IndexCache), null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IncompleteRunException.Of(new CopyResult(source.Root, destination.Root, layout,
                all, published, index, clock.Elapsed), e) is { } incomplete)
            {
                throw incomplete;
            }
        }

        return new CopyResult(source.Root, destination.Root, layout, all, published, index, clock.Elapsed)
        {
            IndexedByServer = writer.ServerUpdatesIndex,
        };
    }

    private static async Task<CopyOutcome?> CopyEntryAsync(IBuildCacheLayout from, SpecEntry entry, TrustPolicy trust,
        IBuildCacheWriter writer, CopyOptions options, IProgress<CopyProgress>? progress,
        CancellationToken cancellationToken)
    {
        var content = await from.ReadEntryAsync(entry, trust, cancellationToken).ConfigureAwait(false);
        var spec = content.Spec.Root;
        if (options.Queries.Count > 0 && !options.Queries.Any(q => q.Matches(spec)))
        {
            return null;
        }

        var display = SpecFormatter.Short(spec);
        if (!options.Force && await writer.ExistsAsync(spec, cancellationToken).ConfigureAwait(false))
        {
            return new CopyOutcome(spec.Name, spec.Hash, display, CopyStatus.SkippedExists,
                "already in the destination")
            {
                Hint = new ErrorHint(HintAction.Overwrite),
            };
        }

        var tarball = content.Tarball
            ?? throw new InvalidContentException(from.Store.Describe(entry.Key), "the entry names no tarball checksum");
        void Report(long done) => progress?.Report(new CopyProgress(spec.Name, spec.Hash, done, tarball.Length ?? 0));

        // Same layout: the entry's own objects, byte for byte, the tarball first and the (signed) metadata last.
        var copied = await writer.TryCopyAsync(from, entry, tarball, Report, cancellationToken).ConfigureAwait(false);
        if (copied is { } length)
        {
            return new CopyOutcome(spec.Name, spec.Hash, display, CopyStatus.Copied, null, length);
        }

        // Another layout: stream the tarball into a staged object, checking it, and write the entry as push does.
        await using var staged = await writer.CreateStagedAsync(cancellationToken).ConfigureAwait(false);
        var (checksum, written) = await CheckedCopy.StageAsync(from.Store, tarball, staged, Report, cancellationToken)
            .ConfigureAwait(false);
        await writer.WriteAsync(content.Spec, new StagedTarball(staged, checksum, written), cancellationToken)
            .ConfigureAwait(false);
        return new CopyOutcome(spec.Name, spec.Hash, display, CopyStatus.Converted, null, written);
    }

    /// <summary>Stamps every report with how many entries were examined, of how many.</summary>
    private sealed class CountedProgress(IProgress<CopyProgress> inner, Func<int> examined, int entries)
        : IProgress<CopyProgress>
    {
        public void Report(CopyProgress value) =>
            inner.Report(value with { Examined = examined(), Entries = entries });
    }
}
