using Depot.Archive;
using Depot.Relocation;

namespace Depot.Operations;

/// <summary>Where packages are installed.</summary>
public abstract record InstallTarget(string Root);

/// <summary>A plain tree for machines without Spack: one prefix per package, <c>ROOT/name-version-hash</c>.</summary>
public sealed record PlainRootTarget(string Root) : InstallTarget(Root);

/// <summary>
/// A Spack install tree: prefixes follow its projection and records go into its database, so <c>spack find</c> sees
/// them. <paramref name="NewTreeDatabaseVersion"/> is used only when the tree has no database yet (8: Spack 1.x,
/// 7: Spack 0.21–0.23); <paramref name="Projection"/> overrides the projection (else the projections of
/// <paramref name="SpackRoot"/>'s <c>etc/spack/config.yaml</c>, else Spack's default). A host passes
/// <c>$SPACK_ROOT</c> as <paramref name="SpackRoot"/>. <paramref name="LockTimeout"/>: how long to wait for a lock
/// another install holds (default 10 minutes for prefix locks, 60 s for the database lock).
/// </summary>
public sealed record SpackTreeTarget(string Root, int NewTreeDatabaseVersion = 8, string? Projection = null,
    string? SpackRoot = null, TimeSpan? LockTimeout = null)
    : InstallTarget(Root);

/// <summary>How to install.</summary>
public sealed record InstallOptions(InstallTarget Target, int Parallelism = 4, ExtractionLimits? Limits = null,
    bool FailFast = false);

/// <summary>Time spent per phase of one package.</summary>
public sealed record InstallPhases(TimeSpan Fetch, TimeSpan Verify, TimeSpan Extract, TimeSpan Relocate)
{
    public TimeSpan Total => Fetch + Verify + Extract + Relocate;
}

public enum InstallStatus
{
    Installed,
    AlreadyInstalled,
    External,
    Failed,
    NotAttempted,

    /// <summary>The install was cancelled before this package was in place (or it was taken out again).</summary>
    Cancelled,
}

/// <summary>One spec's result; <c>Hint</c> says what would let a failed spec install (trust its mirror's
/// key).</summary>
public sealed record InstallOutcome(string Name, string Hash, string Display, InstallStatus Status,
    string? Prefix = null, string? Reason = null,
    InstallPhases? Phases = null, RelocationReport? Relocation = null, string? Mirror = null, string? Signer = null,
    ErrorHint? Hint = null);

/// <summary>The whole install, dependencies first.</summary>
public sealed record InstallResult(IReadOnlyList<InstallOutcome> Outcomes, TimeSpan Elapsed)
{
    public bool AnyFailed => Outcomes.Any(o => o.Status is InstallStatus.Failed or InstallStatus.NotAttempted
        or InstallStatus.Cancelled);

    /// <summary>
    /// What the mirrors could not tell: an index unreadable (the entries were read instead), entries skipped while
    /// reading them. Nothing installed depends on these; they explain what could not be found.
    /// </summary>
    public IReadOnlyList<EntryProblem> Problems { get; init; } = [];
}

/// <summary>
/// An install cancelled once packages were being installed: <see cref="Result"/> says, per package, what had finished
/// (and was taken out again, so the tree is as it was) and what had not. Still a cancellation for every caller.
/// </summary>
public sealed class InstallCancelledException : OperationCanceledException
{
    public InstallCancelledException(InstallResult result, CancellationToken token)
        : base("the install was cancelled", token) => Result = result;

    /// <summary>Per package: cancelled (finished and removed again, being installed, or not started), failed,
    /// already present, external.</summary>
    public InstallResult Result { get; }
}

/// <summary>Progress: a package entering a phase, or finished (with its outcome).</summary>
public sealed record InstallProgress(string Name, string Hash, string Phase, InstallOutcome? Finished = null);
