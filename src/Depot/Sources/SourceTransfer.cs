using System.Diagnostics;
using Depot.Storage;

namespace Depot.Sources;

/// <summary>
/// Copies a source mirror's objects from one store into another, key for key: every archive's bytes are hashed as
/// they stream into a staged object, which is published only when they match the digest in the archive's name (a
/// mismatch writes nothing). Objects the destination holds with the same size are skipped; keys Spack would not
/// write are reported and left. Push (from a download cache) and copy (between mirrors) are this with another source.
/// </summary>
public static class SourceTransfer
{
    private const int Buffer = 1 << 20;

    /// <summary>Transfers every object under <see cref="SourceMirror.Prefix"/> of <paramref name="from"/> into
    /// <paramref name="to"/>.</summary>
    /// <exception cref="DepotException">The destination refuses every write (credentials, permissions) or cannot be
    /// reached: the run stops.</exception>
    public static async Task<SourceTransferResult> RunAsync(IStoreLister from, IObjectStore to,
        SourceTransferOptions options, IProgress<SourceTransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var objects = await SourceMirror.ListAsync(from, cancellationToken).ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        objects.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var present = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var held in to.ListAsync(SourceMirror.Prefix, cancellationToken).ConfigureAwait(false))
        {
            present[held.Key] = held.Length;
        }

        var outcomes = new SourceTransferOutcome[objects.Count];
        var work = new List<int>();
        for (var i = 0; i < objects.Count; i++)
        {
            var source = objects[i];
            if (!source.IsWellFormed)
            {
                outcomes[i] = new SourceTransferOutcome(source.Key, SourceTransferStatus.SkippedMalformed, 0,
                    source.Problem);
            }
            else if (!options.Force && present.TryGetValue(source.Key, out var length)
                && length == source.Object.Length)
            {
                outcomes[i] = new SourceTransferOutcome(source.Key, SourceTransferStatus.SkippedExists, length,
                    "already in the mirror");
            }
            else
            {
                work.Add(i);
            }
        }

        var tracker = new Tracker(progress, objects.Count, work.Sum(i => objects[i].Object.Length));
        foreach (var outcome in outcomes.Where(o => o is not null))
        {
            tracker.Finished(outcome);
        }

        await Parallel.ForEachAsync(work,
            new ParallelOptions
            {
                MaxDegreeOfParallelism = Math.Max(1, options.Parallelism),
                CancellationToken = cancellationToken,
            },
            async (i, token) =>
            {
                var source = objects[i];
                try
                {
                    var written = await CopyOneAsync(from, to, source, tracker, token).ConfigureAwait(false);
                    outcomes[i] = new SourceTransferOutcome(source.Key, SourceTransferStatus.Transferred, written);
                }
                // A store that cannot be reached, refused credentials or a mirror this user may not write stop the
                // run: every other object would fail alike.
                catch (Exception e) when ((e is IOException or UnauthorizedAccessException or HttpRequestException
                    || e is DepotException d && d.Kind.ConcernsOneEntry()) && !ErrorKinds.IsUnreachable(e)
                    && e is not MirrorNotWritableException)
                {
                    outcomes[i] = new SourceTransferOutcome(source.Key, SourceTransferStatus.Failed, 0,
                        Posix.PermissionDenied.MessageOf(e))
                    { Kind = ErrorKinds.Of(e) };
                }

                tracker.Finished(outcomes[i]);
            }).ConfigureAwait(false);

        return new SourceTransferResult(from.Root, to.Root, outcomes, clock.Elapsed);
    }

    private static async Task<long> CopyOneAsync(IStoreReader from, IObjectStore to, SourceObject source,
        Tracker tracker, CancellationToken cancellationToken)
    {
        await using var staged = await to.CreateStagedAsync(cancellationToken).ConfigureAwait(false);
        using var hasher = source.Digest?.CreateHasher();
        long length = 0;
        await using (var input = await from.OpenReadAsync(source.Key, cancellationToken).ConfigureAwait(false))
        {
            var buffer = new byte[Buffer];
            int read;
            while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hasher?.Append(buffer.AsSpan(0, read));
                await staged.Content.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                length += read;
                tracker.Wrote(read);
            }
        }

        if (hasher is not null)
        {
            // Checked before anything is visible: a mismatch discards the staged copy.
            SourceMirror.CheckDigest(from.Describe(source.Key), source.Digest!, hasher.Finish(), length);
        }

        await staged.CommitAsync(source.Key, cancellationToken).ConfigureAwait(false);
        return length;
    }

    /// <summary>Counts finished objects and bytes written across the parallel copies.</summary>
    private sealed class Tracker(IProgress<SourceTransferProgress>? progress, int total, long bytesTotal)
    {
        private int done;
        private long bytes;

        public void Wrote(int count)
        {
            var now = Interlocked.Add(ref bytes, count);
            progress?.Report(new SourceTransferProgress(Volatile.Read(ref done), total, now, bytesTotal));
        }

        public void Finished(SourceTransferOutcome outcome)
        {
            var now = Interlocked.Increment(ref done);
            progress?.Report(new SourceTransferProgress(now, total, Interlocked.Read(ref bytes), bytesTotal, outcome));
        }
    }
}
