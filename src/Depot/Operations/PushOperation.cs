using System.Diagnostics;
using Depot.InstallTree;
using Depot.Layout;
using Depot.Layout.Oci;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>
/// <c>depot push</c>: writes the selected installed specs to a mirror as Spack would (<see cref="PushEntryWriter"/>),
/// several packages at once, skipping entries the mirror already holds; then publishes the signing key and updates the
/// index incrementally. A failed package is reported and the rest carry on, unless fail-fast or the store cannot be
/// reached at all (then the run ends with that error).
/// </summary>
public static class PushOperation
{
    /// <summary>
    /// Pushes <paramref name="plan"/> to <paramref name="mirror"/> (opened for writing: its layout choice and signing
    /// key are used as they were decided when it was opened).
    /// </summary>
    public static async Task<PushResult> RunAsync(Mirror mirror, InstallDatabase db, PushPlan plan, PushOptions options,
        IProgress<PushProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        var clock = Stopwatch.StartNew();
        var store = mirror.Store;
        var keyToPublish = mirror.Signing.Published;
        var layout = await mirror.GetWriteLayoutAsync(cancellationToken).ConfigureAwait(false);
        var writing = new EntryWriterOptions(mirror.Signing.Key, Prefixes: PushEntryWriter.Prefixes(db),
            BaseImage: options.BaseImage);
        var entries = await EntryWriting.OpenAsync(mirror, layout, writing, cancellationToken).ConfigureAwait(false);
        if ((options.BaseImage ?? options.Tag) is not null && layout != PushLayout.Oci)
        {
            throw new DepotException(ErrorKind.Usage,
                $"{(options.BaseImage is not null ? "a base image" : "an image tag")} is for OCI registries (oci://, "
                + "oci+http://) only");
        }

        if (options.Tag is { } requested)
        {
            OciImageWriter.CheckTag(requested);
        }

        var writer = new PushEntryWriter(db, layout, entries, options.SpackPrefix);
        var outcomes = new PushOutcome?[plan.ToPush.Count];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, plan.ToPush.Count),
                new ParallelOptions
                {
                    MaxDegreeOfParallelism = Math.Max(1, options.Parallelism),
                    CancellationToken = stop.Token,
                },
                async (i, token) =>
                {
                    var record = plan.ToPush[i];
                    var started = Stopwatch.StartNew();
                    try
                    {
                        if (!options.Force && await writer.ExistsAsync(record, token).ConfigureAwait(false))
                        {
                            var exists = Outcome(record, PushStatus.SkippedExists, "already in the mirror");
                            outcomes[i] = exists with { Hint = new ErrorHint(HintAction.Overwrite) };
                        }
                        else
                        {
                            outcomes[i] = await writer.PushAsync(record, progress, token).ConfigureAwait(false);
                        }
                    }
                    // A store that cannot be reached at all, or a mirror this user may not write, is not one entry's
                    // failure: the run stops with it (the other packages are cancelled) rather than retrying every
                    // entry against a dead server.
                    catch (Exception e) when ((e is IOException or UnauthorizedAccessException || e is DepotException d
                        && d.Kind.ConcernsOneEntry()) && !ErrorKinds.IsUnreachable(e)
                        && e is not Storage.MirrorNotWritableException)
                    {
                        outcomes[i] = Outcome(record, PushStatus.Failed, Posix.PermissionDenied.MessageOf(e)) with
                        {
                            Elapsed = started.Elapsed,
                            Hint = (e as DepotException)?.Hint,
                        };
                        if (options.FailFast)
                        {
                            await stop.CancelAsync().ConfigureAwait(false);
                        }
                    }

                    progress?.Report(new PushProgress(record.Spec.Name, record.Spec.Hash, 0, 0, outcomes[i]));
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && options.FailFast)
        {
            // Fail-fast: the packages not finished are reported as not attempted.
        }

        if (!stop.IsCancellationRequested)
        {
            // Every tarball is up; OCI now writes each spec's image, which names its dependencies' layers.
            var parallelism = Math.Max(1, options.Parallelism);
            var failed = await entries.CompleteAsync(parallelism, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < outcomes.Length; i++)
            {
                if (outcomes[i] is { Status: PushStatus.Pushed } done && failed.TryGetValue(done.Hash, out var error))
                {
                    outcomes[i] = done with { Status = PushStatus.Failed, Reason = error };
                }
            }
        }

        var all = new List<PushOutcome>();
        for (var i = 0; i < outcomes.Length; i++)
        {
            all.Add(outcomes[i]
                ?? Outcome(plan.ToPush[i], PushStatus.NotAttempted,
                    "not attempted: an earlier package failed (--fail-fast)"));
        }

        all.AddRange(plan.SkippedExternal.Select(r => Outcome(r, PushStatus.SkippedExternal,
            $"external ({r.Path ?? "no path"}): never pushed")));
        all.AddRange(plan.SkippedNotInstalled.Select(r => Outcome(r, PushStatus.SkippedNotInstalled,
            "recorded but not installed in this tree")));

        // The entries are written: what follows (the image tag, the key, the index) is reported with them even when
        // it fails, so the user sees what was pushed before the error.
        string? tagged = null;
        string? published = null;
        IndexResult? index = null;
        PushResult Result() =>
            new(store.Root, layout, all, published, index, clock.Elapsed)
            {
                TaggedImage = tagged,
                IndexedByServer = entries.ServerUpdatesIndex,
            };
        try
        {
            if (options.Tag is { } tag && entries is OciImageWriter images
                && !all.Any(o => o.Status is PushStatus.Failed or PushStatus.NotAttempted))
            {
                // The roots: pushed specs no other pushed spec links to or runs.
                var needed = plan.ToPush.SelectMany(r => r.Spec.Dependencies)
                    .Where(e => (e.Types & (Specs.DepTypes.Link | Specs.DepTypes.Run)) != 0)
                    .Select(e => e.Hash).ToHashSet(StringComparer.Ordinal);
                var roots = plan.ToPush.Where(r => !needed.Contains(r.Spec.Hash)).Select(r => r.Spec).ToList();
                await images.WriteTaggedImageAsync(tag, roots, h => db.Find(h)?.Spec, cancellationToken)
                    .ConfigureAwait(false);
                tagged = tag;
            }

            var stopped = all.Any(o => o.Status == PushStatus.NotAttempted);
            if (options.UpdateIndex && !stopped && !entries.ServerUpdatesIndex)
            {
                // As EntryWriting.FinishAsync, step by step: a key published stays reported if the index fails.
                await entries.FinishAsync(keyToPublish is null ? [] : [keyToPublish], cancellationToken)
                    .ConfigureAwait(false);
                published = keyToPublish?.Fingerprint;
                index = await IndexOperation.IndexLayoutAsync(entries.Layout,
                    new IndexOptions(Cache: options.IndexCache), null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IncompleteRunException.Of(Result(), e) is { } incomplete)
        {
            throw incomplete;
        }

        return Result();
    }

    private static PushOutcome Outcome(InstallRecord record, PushStatus status, string reason) =>
        new(record.Spec.Name, record.Spec.Hash, SpecFormatter.Short(record.Spec), status, reason);
}
