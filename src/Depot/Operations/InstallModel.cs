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
    public bool AnyFailed => Outcomes.Any(o => o.Status is InstallStatus.Failed or InstallStatus.NotAttempted);
}

/// <summary>Progress: a package entering a phase, or finished (with its outcome).</summary>
public sealed record InstallProgress(string Name, string Hash, string Phase, InstallOutcome? Finished = null);
