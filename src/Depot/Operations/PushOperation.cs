using System.Diagnostics;
using Depot.InstallTree;
using Depot.Layout;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// <c>depot push</c>: writes the selected installed specs to a mirror as Spack would (<see cref="PushEntryWriter"/>),
/// several packages at once, skipping entries the mirror already holds; then publishes the signing key and updates the
/// index incrementally. A failed package is reported and the rest carry on, unless fail-fast.
/// </summary>
public static class PushOperation
{
    public static async Task<PushResult> RunAsync(IObjectStore store, InstallDatabase db, PushPlan plan, PushOptions options,
        PublishedKey? keyToPublish = null, IProgress<PushProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var layout = options.Layout ?? await ExistingLayoutAsync(store, cancellationToken).ConfigureAwait(false);
        if ((layout == PushLayout.Oci) != BuildCache.HoldsOciLayout(store))
        {
            throw new DepotException(ErrorKind.Unsupported, layout == PushLayout.Oci
                ? $"{store.Root}: only an OCI registry (oci://, oci+http://) holds the OCI layout"
                : $"{store.Root}: a registry holds Spack's OCI layout only", layout == PushLayout.Oci ? null : new ErrorHint(HintAction.UseMirrorLayout));
        }

        if ((options.BaseImage ?? options.Tag) is not null && layout != PushLayout.Oci)
        {
            throw new DepotException(ErrorKind.Usage, $"{(options.BaseImage is not null ? "a base image" : "an image tag")} is for OCI registries (oci://, oci+http://) only");
        }

        if (options.Tag is { } requested)
        {
            OciImageWriter.CheckTag(requested);
        }

        var writer = new PushEntryWriter(store, db, layout, options.SigningKey, options.SpackPrefix, options.BaseImage);
        var outcomes = new PushOutcome?[plan.ToPush.Count];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, plan.ToPush.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = stop.Token },
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
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException || e is DepotException d && d.Kind.ConcernsOneEntry())
                    {
                        outcomes[i] = Outcome(record, PushStatus.Failed, e.Message) with { Elapsed = started.Elapsed, Hint = (e as DepotException)?.Hint };
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

        if (writer.Images is not null && !stop.IsCancellationRequested)
        {
            // OCI: every tarball is up; now each spec's image, which names its dependencies' layers.
            var failed = await writer.Images.WriteImagesAsync(Math.Max(1, options.Parallelism), cancellationToken).ConfigureAwait(false);
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
            all.Add(outcomes[i] ?? Outcome(plan.ToPush[i], PushStatus.NotAttempted, "not attempted: an earlier package failed (--fail-fast)"));
        }

        all.AddRange(plan.SkippedExternal.Select(r => Outcome(r, PushStatus.SkippedExternal, $"external ({r.Path ?? "no path"}): never pushed")));
        all.AddRange(plan.SkippedNotInstalled.Select(r => Outcome(r, PushStatus.SkippedNotInstalled, "recorded but not installed in this tree")));

        string? tagged = null;
        if (options.Tag is { } tag && writer.Images is not null && !all.Any(o => o.Status is PushStatus.Failed or PushStatus.NotAttempted))
        {
            // The roots: pushed specs no other pushed spec links to or runs.
            var needed = plan.ToPush.SelectMany(r => r.Spec.Dependencies).Where(e => (e.Types & (Specs.DepTypes.Link | Specs.DepTypes.Run)) != 0)
                .Select(e => e.Hash).ToHashSet(StringComparer.Ordinal);
            var roots = plan.ToPush.Where(r => !needed.Contains(r.Spec.Hash)).Select(r => r.Spec).ToList();
            await writer.Images.WriteTaggedImageAsync(tag, roots, h => db.Find(h)?.Spec, cancellationToken).ConfigureAwait(false);
            tagged = tag;
        }

        string? published = null;
        IndexResult? index = null;
        var stopped = all.Any(o => o.Status == PushStatus.NotAttempted);
        if (options.UpdateIndex && !stopped)
        {
            var target = layout switch
            {
                PushLayout.Oci => await BuildCache.OpenForWriteAsync(store, null, cancellationToken).ConfigureAwait(false),
                PushLayout.V3 => new BuildCacheV3(store),
                _ => (IBuildCacheLayout)new BuildCacheV2(store),
            };
            if (keyToPublish is not null)
            {
                await target.PublishKeysAsync([keyToPublish], cancellationToken).ConfigureAwait(false);
                published = keyToPublish.Fingerprint;
            }

            index = await IndexOperation.IndexLayoutAsync(target, new IndexOptions(Cache: options.IndexCache), null, cancellationToken).ConfigureAwait(false);
        }

        return new PushResult(store.Root, layout, all, published, index, clock.Elapsed) { TaggedImage = tagged };
    }

    /// <summary>The layout a mirror already uses (v3 when it has both or none).</summary>
    public static async Task<PushLayout> ExistingLayoutAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        if (BuildCache.HoldsOciLayout(store))
        {
            return PushLayout.Oci;
        }

        try
        {
            var layouts = await BuildCache.DetectAsync(store, cancellationToken).ConfigureAwait(false);
            return layouts.Any(l => l.Version == 3) ? PushLayout.V3 : PushLayout.V2;
        }
        catch (NoBuildCacheException)
        {
            return PushLayout.V3;
        }
    }

    private static PushOutcome Outcome(InstallRecord record, PushStatus status, string reason) =>
        new(record.Spec.Name, record.Spec.Hash, SpecFormatter.Short(record.Spec), status, reason);
}
