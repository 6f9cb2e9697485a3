using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Depot.Layout;
using Depot.Signing;
using Depot.Sources;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>Options of <see cref="VerifyOperation"/>.</summary>
/// <param name="Queries">Only entries whose spec matches one of these (all when empty).</param>
/// <param name="Parallelism">Entries checked at once.</param>
public sealed record VerifyOptions(IReadOnlyList<SpecQuery> Queries, int Parallelism = 8)
{
    /// <summary>Which halves to check: by default the build cache, and the source mirror when there is one and no
    /// <see cref="Queries"/> narrow the run to specs.</summary>
    public VerifyParts Parts { get; init; } = VerifyParts.Both;
}

/// <summary>What <see cref="VerifyOperation"/> found.</summary>
/// <param name="Checked">Entries checked (matching the queries).</param>
/// <param name="Signed">Entries whose signature verified.</param>
/// <param name="Failures">One per bad entry, by key: a line naming mirror, entry and what is wrong, its kind and
/// hint.</param>
/// <param name="Elapsed">Wall-clock time.</param>
public sealed record VerifyResult(int Checked, int Signed, IReadOnlyList<EntryProblem> Failures, TimeSpan Elapsed)
{
    /// <summary>The source mirror's check, or null when it was not checked (none there, not asked for, a store that
    /// cannot list).</summary>
    public SourceVerifyResult? Sources { get; init; }

    /// <summary>False when only the source mirror was checked (asked for, or the mirror holds no build cache).
    /// </summary>
    public bool BuildCacheChecked { get; init; } = true;

    public bool Ok => Failures.Count == 0 && (Sources?.Ok ?? true);
}

/// <summary>
/// Checks every entry of a mirror: the signature of its manifest (v3) or spec file (v2) under the mirror's trust
/// policy, the spec blob's checksum, and the tarball's size and sha256 (streamed, never held in memory); then, when the
/// mirror holds source archives, each against the digest in its name (<see cref="SourceVerification"/>).
/// </summary>
public static class VerifyOperation
{
    /// <summary>
    /// Checks <paramref name="mirror"/>'s entries under its trust policy, in the layouts it detected once.
    /// </summary>
    public static async Task<VerifyResult> RunAsync(Mirror mirror, VerifyOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var sources = await SourcesToCheckAsync(mirror, options, cancellationToken).ConfigureAwait(false);
        var entries = new VerifyResult(0, 0, [], TimeSpan.Zero) { BuildCacheChecked = false };
        if (options.Parts != VerifyParts.Sources)
        {
            try
            {
                entries = await VerifyEntriesAsync(mirror, options, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (NoBuildCacheException) when (sources is not null && options.Parts == VerifyParts.Both)
            {
                // A source mirror alone: nothing else to check.
            }
        }

        var checkedSources = sources is null ? null
            : await SourceVerification.RunAsync(sources, options.Parallelism, progress, cancellationToken)
                .ConfigureAwait(false);
        return entries with { Elapsed = clock.Elapsed, Sources = checkedSources };
    }

    /// <summary>The store to check sources in, or null when they are not checked.</summary>
    /// <exception cref="DepotException">Only sources were asked for, and there are none or they cannot be
    /// listed.</exception>
    private static async Task<IStoreLister?> SourcesToCheckAsync(Mirror mirror, VerifyOptions options,
        CancellationToken cancellationToken)
    {
        if (options.Parts == VerifyParts.BuildCache || options.Parts == VerifyParts.Both && options.Queries.Count > 0)
        {
            return null;
        }

        var lister = SourceVerification.Listable(mirror.Store);
        if (lister is not null && await SourceMirror.HoldsSourcesAsync(lister, cancellationToken).ConfigureAwait(false))
        {
            return lister;
        }

        return options.Parts != VerifyParts.Sources ? null
            : lister is null ? throw new DepotException(ErrorKind.Unsupported, $"{mirror.Store.Root}: a source mirror "
                + "can be checked only where it can be listed (a directory, bucket or container; not plain HTTP or a "
                + "registry)")
            : throw new DepotException(ErrorKind.NotFound,
                $"{mirror.Store.Root}: no source mirror here (nothing under {SourceMirror.Prefix})");
    }

    private static async Task<VerifyResult> VerifyEntriesAsync(Mirror mirror, VerifyOptions options,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var store = mirror.Store;
        var layouts = await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false);
        var trust = await mirror.GetTrustAsync(cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var failures = new ConcurrentBag<EntryProblem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int checkedCount = 0, signed = 0, done = 0;
        var work = new List<(IBuildCacheLayout Layout, SpecEntry Entry)>();
        foreach (var layout in layouts)
        {
            await foreach (var entry in layout.ListSpecEntriesAsync(cancellationToken).ConfigureAwait(false))
            {
                if (seen.Add(entry.Hash))
                {
                    work.Add((layout, entry));
                }
            }
        }

        await Parallel.ForEachAsync(work,
            new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken },
            async (item, ct) =>
            {
                var counted = false;
                try
                {
                    var content = await item.Layout.ReadEntryAsync(item.Entry, trust, ct).ConfigureAwait(false);
                    if (options.Queries.Count > 0 && !options.Queries.Any(q => q.Matches(content.Spec.Root)))
                    {
                        return;
                    }

                    counted = true;
                    Interlocked.Increment(ref checkedCount);
                    if (content.SignerFingerprint is not null)
                    {
                        Interlocked.Increment(ref signed);
                    }
                    await CheckTarballAsync(store, item.Entry, content, ct).ConfigureAwait(false);
                }
                catch (DepotException e) when (e.Kind.ConcernsOneEntry())
                {
                    if (counted
                        || await MightMatchAsync(item.Layout, item.Entry, options.Queries, ct).ConfigureAwait(false))
                    {
                        if (!counted)
                        {
                            Interlocked.Increment(ref checkedCount);
                        }

                        failures.Add(new EntryProblem(item.Entry.Key, trust.Explain(item.Entry.DisplayName, e), e.Kind,
                            trust.HintFor(e)));
                    }
                }
                finally
                {
                    progress?.Report(new OperationProgress("verify", Interlocked.Increment(ref done), work.Count));
                }
            }).ConfigureAwait(false);

        return new VerifyResult(checkedCount, signed,
            failures.OrderBy(f => f.Location, StringComparer.Ordinal).ToList(), clock.Elapsed);
    }

    /// <summary>
    /// For an entry that failed its checks: did a query mean it? Its spec is read again without checks to decide;
    /// when even that fails, the package name in the entry's key decides.
    /// </summary>
    private static async Task<bool> MightMatchAsync(IBuildCacheLayout layout, SpecEntry entry,
        IReadOnlyList<SpecQuery> queries, CancellationToken cancellationToken)
    {
        if (queries.Count == 0)
        {
            return true;
        }

        try
        {
            var spec = await layout.ReadSpecAsync(entry, cancellationToken).ConfigureAwait(false);
            return queries.Any(q => q.Matches(spec.Root));
        }
        catch (DepotException e) when (e.Kind.ConcernsOneEntry())
        {
            // Unreadable even unchecked: the key's package name (or the hash) decides.
            return queries.Any(q => q.HashPrefix is { } prefix
                ? entry.Hash.StartsWith(prefix, StringComparison.Ordinal)
                : q.Name is { } name
                    && (entry.Key.Contains("-" + name + "-", StringComparison.Ordinal)
                        || entry.Key.Contains("/" + name + "/", StringComparison.Ordinal)));
        }
    }

    private static async Task CheckTarballAsync(IStoreReader store, SpecEntry entry, EntryContent content,
        CancellationToken cancellationToken)
    {
        var tarball = content.Tarball
            ?? throw new InvalidContentException(store.Describe(entry.Key),
                "spec file has no sha256 'binary_cache_checksum' for its tarball");
        var location = store.Describe(tarball.Key);
        Stream stream;
        try
        {
            stream = await store.OpenReadAsync(tarball.Key, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreObjectNotFoundException)
        {
            throw new InvalidContentException(location, "tarball is missing");
        }

        await using (stream.ConfigureAwait(false))
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            long length = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                length += read;
            }

            var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
            if (actual != tarball.Sha256 || (tarball.Length is { } expected && expected != length))
            {
                throw new InvalidContentException(location,
                    "tarball checksum mismatch: expected sha256 "
                    + $"{tarball.Sha256}{(tarball.Length is { } l ? $" ({l} bytes)" : "")}, found {actual} ({length} "
                    + "bytes)");
            }
        }
    }
}
