using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using Depot.Archive;
using Depot.Layout;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Operations;

/// <summary>Options of <see cref="CopyOperation"/>.</summary>
/// <param name="Queries">Only these specs (all when empty).</param>
/// <param name="Layout">Destination layout; null: the one it has, v3 for a new directory or bucket, OCI for a registry.</param>
/// <param name="SigningKey">Signs entries rewritten in another layout (null: they are written unsigned).</param>
/// <param name="Parallelism">Entries copied at once.</param>
/// <param name="Force">Copy entries the destination holds already.</param>
/// <param name="UpdateIndex">Update the destination's index (and publish the key) at the end.</param>
/// <param name="IndexCache">Where index record tables are cached between runs (null: none).</param>
public sealed record CopyOptions(IReadOnlyList<SpecQuery> Queries, PushLayout? Layout = null, PgpSecretKey? SigningKey = null, int Parallelism = 4,
    bool Force = false, bool UpdateIndex = true, IndexCache? IndexCache = null);

public enum CopyStatus
{
    /// <summary>Copied byte for byte (same layout: the original signature is kept).</summary>
    Copied,

    /// <summary>Rewritten in the destination's layout (signed with the copying key, if any).</summary>
    Converted,

    SkippedExists,
    Failed,
}

public sealed record CopyOutcome(string Name, string Hash, string Display, CopyStatus Status, string? Reason = null, long Bytes = 0)
{
    /// <summary>What would change the outcome (trust the source's key, overwrite), for the host to render.</summary>
    public ErrorHint? Hint { get; init; }
}

/// <summary>One entry's progress (bytes of its tarball), or (once) its outcome.</summary>
public sealed record CopyProgress(string Name, string Hash, long Done, long Total, CopyOutcome? Outcome = null);

public sealed record CopyResult(string Source, string Destination, PushLayout Layout, IReadOnlyList<CopyOutcome> Outcomes, string? PublishedKey,
    IndexResult? Index, TimeSpan Elapsed)
{
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
    public static async Task<CopyResult> RunAsync(IObjectStore source, TrustPolicy trust, IObjectStore destination, CopyOptions options,
        PublishedKey? keyToPublish = null, IProgress<CopyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var from = (await BuildCache.DetectAsync(source, cancellationToken).ConfigureAwait(false))[0];
        var layout = options.Layout ?? await PushOperation.ExistingLayoutAsync(destination, cancellationToken).ConfigureAwait(false);
        var writer = new EntryWriter(destination, layout, options.SigningKey);
        var entries = await from.ListSpecEntriesAsync(cancellationToken).ToListAsync(cancellationToken).ConfigureAwait(false);
        var outcomes = new CopyOutcome?[entries.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, entries.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var entry = entries[i];
                try
                {
                    outcomes[i] = await CopyEntryAsync(from, entry, trust, destination, layout, writer, options, progress, token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or HttpRequestException || e is DepotException d && d.Kind.ConcernsOneEntry())
                {
                    var stem = entry.DisplayName.Split('/')[0];
                    outcomes[i] = new CopyOutcome(stem, entry.Hash, stem, CopyStatus.Failed,
                        e is SignatureException or InvalidContentException ? trust.Explain(entry.DisplayName, (DepotException)e) : e.Message)
                    {
                        Hint = e is DepotException failure ? trust.HintFor(failure) : null,
                    };
                }

                if (outcomes[i] is { } done && (writer.Images is null || done.Status != CopyStatus.Converted))
                {
                    progress?.Report(new CopyProgress(done.Name, done.Hash, 0, 0, done));
                }
            }).ConfigureAwait(false);

        if (writer.Images is not null)
        {
            var failed = await writer.Images.WriteImagesAsync(Math.Max(1, options.Parallelism), cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < outcomes.Length; i++)
            {
                if (outcomes[i] is { Status: CopyStatus.Converted } o)
                {
                    // An image is complete only now: report it (or why it could not be written).
                    outcomes[i] = failed.TryGetValue(o.Hash, out var error) ? o with { Status = CopyStatus.Failed, Reason = error } : o;
                    progress?.Report(new CopyProgress(o.Name, o.Hash, 0, 0, outcomes[i]));
                }
            }
        }

        var all = outcomes.Where(o => o is not null).Select(o => o!).ToList();
        string? published = null;
        IndexResult? index = null;
        if (options.UpdateIndex && all.Any(o => o.Status is CopyStatus.Copied or CopyStatus.Converted))
        {
            var target = await BuildCache.OpenForWriteAsync(destination, layout switch { PushLayout.V3 => 3, PushLayout.Oci => null, _ => 2 }, cancellationToken)
                .ConfigureAwait(false);
            if (keyToPublish is not null && all.Any(o => o.Status == CopyStatus.Converted))
            {
                await target.PublishKeysAsync([keyToPublish], cancellationToken).ConfigureAwait(false);
                published = keyToPublish.Fingerprint;
            }

            index = await IndexOperation.IndexLayoutAsync(target, new IndexOptions(Cache: options.IndexCache), null, cancellationToken).ConfigureAwait(false);
        }

        return new CopyResult(source.Root, destination.Root, layout, all, published, index, clock.Elapsed);
    }

    private static async Task<CopyOutcome?> CopyEntryAsync(IBuildCacheLayout from, SpecEntry entry, TrustPolicy trust, IObjectStore destination,
        PushLayout layout, EntryWriter writer, CopyOptions options, IProgress<CopyProgress>? progress, CancellationToken cancellationToken)
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
            return new CopyOutcome(spec.Name, spec.Hash, display, CopyStatus.SkippedExists, "already in the destination")
            {
                Hint = new ErrorHint(HintAction.Overwrite),
            };
        }

        var tarball = content.Tarball ?? throw new InvalidContentException(from.Store.Describe(entry.Key), "the entry names no tarball checksum");
        void Report(long done) => progress?.Report(new CopyProgress(spec.Name, spec.Hash, done, tarball.Length ?? 0));

        // Same layout: the entry's own objects, byte for byte, the tarball first and the (signed) metadata last.
        if ((from is BuildCacheV3 && layout == PushLayout.V3) || (from is BuildCacheV2 && layout is PushLayout.V2 or PushLayout.V2Spack022))
        {
            var metadata = await from.Store.ReadAllBytesAsync(entry.Key, 16 << 20, cancellationToken).ConfigureAwait(false);
            var length = await CopyCheckedAsync(from.Store, tarball, destination, tarball.Key, Report, cancellationToken).ConfigureAwait(false);
            if (from is BuildCacheV3)
            {
                var body = BuildCacheManifest.Parse(metadata, from.Store.Describe(entry.Key));
                foreach (var record in body.Records.Where(r => r.BlobKey != tarball.Key))
                {
                    await CopyCheckedAsync(from.Store, new TarballRef(record.BlobKey, record.Checksum, record.ContentLength), destination, record.BlobKey, null,
                        cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                await destination.DeleteAsync(BuildCacheV2.SpecFileKey(spec, !entry.Key.EndsWith(".sig", StringComparison.Ordinal)), cancellationToken)
                    .ConfigureAwait(false);
            }

            await destination.WriteAllBytesAsync(entry.Key, metadata, cancellationToken).ConfigureAwait(false);
            if (from is BuildCacheV3)
            {
                await new BuildCacheV3(destination).EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
            }

            return new CopyOutcome(spec.Name, spec.Hash, display, CopyStatus.Copied, null, length);
        }

        // Another layout: stream the tarball into a staged object, checking it, and write the entry as push does.
        await using var staged = await destination.CreateStagedAsync(cancellationToken).ConfigureAwait(false);
        var (checksum, written) = await StageCheckedAsync(from.Store, tarball, staged, Report, cancellationToken).ConfigureAwait(false);
        string? diffId = null;
        if (layout == PushLayout.Oci)
        {
            // Images name each layer by the sha256 of the tar inside it too.
            await staged.Content.FlushAsync(cancellationToken).ConfigureAwait(false);
            staged.Content.Position = 0;
            await using (var gunzip = new GZipStream(staged.Content, CompressionMode.Decompress, leaveOpen: true))
            {
                diffId = Convert.ToHexStringLower(await SHA256.HashDataAsync(gunzip, cancellationToken).ConfigureAwait(false));
            }

            staged.Content.Position = written;
        }

        await writer.WriteAsync(content.Spec, staged, checksum, written, diffId, cancellationToken).ConfigureAwait(false);
        return new CopyOutcome(spec.Name, spec.Hash, display, CopyStatus.Converted, null, written);
    }

    // One object streamed across, its sha256 (and size) checked before it becomes visible; skipped when already there.
    private static async Task<long> CopyCheckedAsync(IObjectStore from, TarballRef blob, IObjectStore to, string key, Action<long>? report,
        CancellationToken cancellationToken)
    {
        if (blob.Length is { } known && (await to.GetInfoAsync(key, cancellationToken).ConfigureAwait(false))?.Length == known
            && key.StartsWith("blobs/", StringComparison.Ordinal))
        {
            return known; // content-addressed and complete
        }

        await using var staged = await to.CreateStagedAsync(cancellationToken).ConfigureAwait(false);
        var (_, written) = await StageCheckedAsync(from, blob, staged, report, cancellationToken).ConfigureAwait(false);
        await staged.CommitAsync(key, cancellationToken).ConfigureAwait(false);
        return written;
    }

    // Streams an object into a staged one, hashing on the way; a checksum or size mismatch throws (the caller's staged
    // object is then discarded, never committed).
    private static async Task<(string Checksum, long Written)> StageCheckedAsync(IObjectStore from, TarballRef blob, IStagedObject staged,
        Action<long>? report, CancellationToken cancellationToken)
    {
        string checksum;
        long written;
        await using (var source = await from.OpenReadAsync(blob.Key, cancellationToken).ConfigureAwait(false))
        await using (var hashing = new ChecksumStream(staged.Content, leaveOpen: true) { Written = report })
        {
            await source.CopyToAsync(hashing, 1 << 20, cancellationToken).ConfigureAwait(false);
            checksum = hashing.Sha256Hex();
            written = hashing.BytesWritten;
        }

        if (checksum != blob.Sha256 || (blob.Length is { } length && length != written))
        {
            throw new InvalidContentException(from.Describe(blob.Key),
                $"checksum mismatch: the entry expects sha256 {blob.Sha256}, the object is sha256 {checksum} ({written} bytes); nothing was copied");
        }

        return (checksum, written);
    }
}
