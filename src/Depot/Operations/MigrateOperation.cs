using System.Diagnostics;
using Depot.Layout;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>Options of <see cref="MigrateOperation"/>.</summary>
/// <param name="DeleteOld">Delete <c>build_cache/</c> once every entry is in layout v3 (kept when any failed).</param>
/// <param name="Parallelism">Entries migrated at once.</param>
/// <param name="IndexCache">Where index record tables are cached between runs (null: none).</param>
public sealed record MigrateOptions(bool DeleteOld = false, int Parallelism = 8, IndexCache? IndexCache = null);

/// <summary>What <see cref="MigrateOperation"/> did.</summary>
/// <param name="Mirror">The mirror's root.</param>
/// <param name="HadOldLayout">False when the mirror holds no <c>build_cache/</c> layout (nothing to migrate).</param>
/// <param name="Outcomes">Per v2 entry: converted (migrated now), skipped (in v3 already) or failed, with why.</param>
/// <param name="PublishedKey">The fingerprint of the key published in v3, when one was.</param>
/// <param name="Index">The v3 index update, when the index had to be written.</param>
/// <param name="DeletedOld">Objects of the old layout deleted (<see cref="MigrateOptions.DeleteOld"/>).</param>
/// <param name="Elapsed">Wall-clock time.</param>
public sealed record MigrateResult(string Mirror, bool HadOldLayout, IReadOnlyList<CopyOutcome> Outcomes,
    string? PublishedKey, IndexResult? Index, int DeletedOld, TimeSpan Elapsed)
{
    public int Count(CopyStatus status) => Outcomes.Count(o => o.Status == status);

    public bool AnyFailed => Outcomes.Any(o => o.Status == CopyStatus.Failed);

    /// <summary>True when the run changed nothing: every entry was in v3, its index and key were up to date, and
    /// nothing was deleted.</summary>
    public bool NothingDone => Count(CopyStatus.Converted) == 0 && !AnyFailed && PublishedKey is null && Index is null
        && DeletedOld == 0;
}

/// <summary>
/// <c>depot migrate</c>: a mirror's v2 layout (<c>build_cache/</c>, Spack 0.21 to 0.23) rewritten as layout v3 in the
/// same mirror, as Spack 1.x's <c>buildcache migrate</c> does: each entry read and checked (its signature, unless
/// unsigned; its tarball's sha256 as it streams), its tarball stored as a content-addressed blob (the <c>.spack</c>
/// file of these layouts is the gzip'd tarball itself), its spec as a gzip'd spec blob, then its manifest (signed with
/// the Depot key unless unsigned) — the v3 writer's own entries, as <c>depot copy</c> converts them. The key is
/// published in v3 and the index written last, only when something changed. Entries already in v3 are skipped, so a
/// second run does nothing and a run killed midway resumes where it stopped. The old layout is kept unless asked,
/// and then deleted only when every entry made it.
/// </summary>
public static class MigrateOperation
{
    /// <summary>
    /// Migrates <paramref name="source"/> (the mirror opened for reading: its trust policy checks the old entries)
    /// into <paramref name="destination"/> (the same mirror opened for writing in layout v3: its signing choice).
    /// </summary>
    /// <exception cref="DepotException">The mirrors differ, the mirror holds no build cache, or it cannot be
    /// written.</exception>
    public static async Task<MigrateResult> RunAsync(Mirror source, Mirror destination, MigrateOptions options,
        IProgress<CopyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(options);
        if (source.Store.Root != destination.Store.Root || destination.RequestedLayout != PushLayout.V3)
        {
            throw new ArgumentException("migrate reads and writes one mirror, written in layout v3");
        }

        var clock = Stopwatch.StartNew();
        var layouts = await source.GetLayoutsAsync(cancellationToken).ConfigureAwait(false);
        if (layouts.OfType<BuildCacheV2>().FirstOrDefault() is not { } old)
        {
            return new MigrateResult(source.Store.Root, false, [], null, null, 0, clock.Elapsed);
        }

        var copied = await CopyOperation.RunAsync(source, old, destination,
            new CopyOptions([], options.Parallelism, Force: false, UpdateIndex: false), progress, cancellationToken)
            .ConfigureAwait(false);
        // Skipped entries are in v3 already: nothing a user should force.
        copied = copied with
        {
            Outcomes = copied.Outcomes.Select(o => o.Status == CopyStatus.SkippedExists
                ? o with { Reason = "already in layout v3", Hint = null } : o).ToList(),
        };
        var v3 = new BuildCacheV3(destination.Writable);
        string? published = null;
        IndexResult? index = null;
        try
        {
            published = await PublishKeyAsync(v3, destination.Signing.Published, cancellationToken)
                .ConfigureAwait(false);
            if (copied.Count(CopyStatus.Converted) > 0
                || !await IndexCoversAsync(v3, copied.Outcomes, cancellationToken).ConfigureAwait(false))
            {
                index = await IndexOperation.IndexLayoutAsync(v3, new IndexOptions(Cache: options.IndexCache), null,
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IncompleteRunException.Of(new MigrateResult(source.Store.Root, true,
            copied.Outcomes, published, index, 0, clock.Elapsed), e) is { } incomplete)
        {
            throw incomplete;
        }

        var deleted = options.DeleteOld && !copied.AnyFailed
            ? await DeleteOldLayoutAsync(destination.Writable, cancellationToken).ConfigureAwait(false)
            : 0;
        return new MigrateResult(source.Store.Root, true, copied.Outcomes, published, index, deleted,
            clock.Elapsed);
    }

    // The signing key where Spack 1.x looks for it, unless a run before already published it.
    private static async Task<string?> PublishKeyAsync(BuildCacheV3 v3, PublishedKey? key,
        CancellationToken cancellationToken)
    {
        if (key is null)
        {
            return null;
        }

        var there = await v3.ReadPublishedKeysAsync(cancellationToken).ConfigureAwait(false);
        if (there.Any(k => k.Fingerprint == key.Fingerprint))
        {
            return null;
        }

        await v3.PublishKeysAsync([key], cancellationToken).ConfigureAwait(false);
        return key.Fingerprint;
    }

    // A run killed after its entries but before its index left entries the index does not list: a rerun, which
    // converts nothing, must still write it.
    private static async Task<bool> IndexCoversAsync(BuildCacheV3 v3, IReadOnlyList<CopyOutcome> outcomes,
        CancellationToken cancellationToken)
    {
        BuildCacheIndex? index;
        try
        {
            index = await v3.ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidContentException)
        {
            return false;
        }

        return index is not null && outcomes.Where(o => o.Status == CopyStatus.SkippedExists)
            .All(o => index.Find(o.Hash) is { InBuildcache: true });
    }

    // The index first (readers stop listing the old entries), then spec files (no entry without its tarball), then
    // the rest: tarballs, keys, anything else under build_cache/.
    private static async Task<int> DeleteOldLayoutAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        var keys = await store.ListKeysAsync(BuildCacheV2.Prefix, cancellationToken).ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        static int Rank(string key) => key switch
        {
            BuildCacheV2.IndexJsonKey => 0,
            BuildCacheV2.IndexHashKey => 1,
            _ when key.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal)
                || key.EndsWith(BuildCacheV2.PlainSuffix, StringComparison.Ordinal) => 2,
            _ => 3,
        };

        var deleted = 0;
        foreach (var key in keys.OrderBy(Rank).ThenBy(k => k, StringComparer.Ordinal))
        {
            if (await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false))
            {
                deleted++;
            }
        }

        return deleted;
    }
}
