namespace Depot.Operations;

/// <summary>Options of <see cref="PruneOperation"/>.</summary>
/// <param name="Apply">Delete what the plan finds (false: only say what would go, the default).</param>
/// <param name="Grace">Blobs, temporaries, broken entries and unlisted keys younger than this are never touched (a
/// push may be writing them).</param>
/// <param name="KeepLast">Retention: per package, keep the entries of the N most recently pushed versions.</param>
/// <param name="OlderThan">Retention: entries pushed longer ago than this may go.</param>
/// <param name="Keep">Hashes whose link/run closures stay whatever the retention rules say (from lock files or
/// lists, <see cref="KeepFiles"/>).</param>
/// <param name="Parallelism">Reads and deletes in flight at once.</param>
/// <param name="Cache">Local listing summaries the index update keeps in step (null: none).</param>
public sealed record PruneOptions(bool Apply = false, TimeSpan? Grace = null, int? KeepLast = null,
    TimeSpan? OlderThan = null, IReadOnlySet<string>? Keep = null, int Parallelism = 32, IndexCache? Cache = null)
{
    /// <summary>The grace period when none is given: one hour.</summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromHours(1);

    /// <summary>True when a retention rule is given (else only orphans go).</summary>
    public bool HasRetention => KeepLast is not null || OlderThan is not null;
}

/// <summary>Why something goes.</summary>
public enum PruneReason
{
    /// <summary>A blob (v3) or tarball (v2) no entry names.</summary>
    OrphanBlob,

    /// <summary>An entry whose manifest or spec file names a blob or tarball that is missing.</summary>
    BrokenEntry,

    /// <summary>A writer's temporary object, left behind.</summary>
    Temporary,

    /// <summary>A published key the key index no longer lists.</summary>
    UnlistedKey,

    /// <summary>An entry a retention rule lets go and nothing that stays depends on.</summary>
    Expired,

    /// <summary>An entry named to <see cref="RmOperation"/>.</summary>
    Removed,

    /// <summary>An object of the source mirror at a key Spack never writes or fetches (<see cref="SourcePrune"/>).
    /// </summary>
    StraySource,
}

/// <summary>One thing that goes (or would): an entry with the objects only it owned, or one object.</summary>
/// <param name="Reason">Why.</param>
/// <param name="Name">What it is, for people: <c>name@version/hash7</c>, a fingerprint, or the key.</param>
/// <param name="Keys">Its objects, in the order they are deleted (a manifest before its blobs).</param>
/// <param name="Bytes">Their size as listed.</param>
/// <param name="Location">The first object's path or URL.</param>
public sealed record PruneItem(PruneReason Reason, string Name, IReadOnlyList<string> Keys, long Bytes,
    string Location)
{
    /// <summary>The reason as JSON and text spell it (<c>orphan-blob</c>, <c>broken-entry</c>…).</summary>
    public string ReasonName => Reason switch
    {
        PruneReason.OrphanBlob => "orphan-blob",
        PruneReason.BrokenEntry => "broken-entry",
        PruneReason.Temporary => "temporary",
        PruneReason.UnlistedKey => "unlisted-key",
        PruneReason.Expired => "expired",
        PruneReason.StraySource => "stray-source",
        _ => "removed",
    };
}

/// <summary>What a prune or rm found and did.</summary>
/// <param name="Items">What goes (or would), in the order of the plan.</param>
/// <param name="Applied">True when the items were deleted (false: a dry run).</param>
/// <param name="Problems">What could not be read or deleted, and what was left alone because it changed during the
/// run.</param>
/// <param name="Index">The index updates made after deleting (none in a dry run or when nothing went).</param>
/// <param name="Elapsed">Wall-clock time.</param>
public sealed record PruneResult(IReadOnlyList<PruneItem> Items, bool Applied, IReadOnlyList<EntryProblem> Problems,
    IReadOnlyList<IndexResult> Index, TimeSpan Elapsed)
{
    /// <summary>Bytes the items free.</summary>
    public long Bytes => Items.Sum(i => i.Bytes);

    /// <summary>How long each phase took (list, read, plan, delete, index).</summary>
    public IReadOnlyList<PhaseTime> Phases { get; init; } = [];
}
