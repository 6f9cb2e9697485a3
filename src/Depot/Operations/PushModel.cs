
namespace Depot.Operations;

/// <summary>Which build cache layout a push writes, named after the Spack versions that write it.</summary>
public enum PushLayout
{
    /// <summary>Layout v3 (Spack 1.x): <c>v3/manifests</c> + <c>blobs/sha256</c>.</summary>
    V3,

    /// <summary>Layout v2 as Spack 0.21 writes it (<c>buildcache_layout_version</c> 1, no parent directories): read by
    /// 0.21–1.x.</summary>
    V2,

    /// <summary>Layout v2 as Spack 0.22/0.23 write it (<c>buildcache_layout_version</c> 2, parent directories); 0.21
    /// refuses it.</summary>
    V2Spack022,

    /// <summary>Spack's OCI layout in a registry: one image per spec, <c>index.spack</c>.</summary>
    Oci,
}

/// <summary>How to push.</summary>
/// <remarks>The layout and the signing key are the mirror's (<see cref="Mirror.GetWriteLayoutAsync"/>,
/// <see cref="Mirror.Signing"/>), chosen when it was opened for writing.</remarks>
/// <param name="Force">Rewrite entries that already exist.</param>
/// <param name="Parallelism">Packages archived and uploaded at once.</param>
/// <param name="FailFast">Stop at the first failure instead of pushing the rest.</param>
/// <param name="SpackPrefix">The builder's Spack checkout for the build info (a host passes <c>$SPACK_ROOT</c> when
/// the user names none; else a guess from the root).</param>
/// <param name="UpdateIndex">Publish the signing key and update the index (incrementally) afterwards.</param>
/// <param name="IndexCache">Local cache the index update may reuse.</param>
/// <param name="BaseImage">OCI only: the image every spec image is built on (as Spack's <c>--base-image</c>).</param>
/// <param name="Tag">OCI only: also tag one image holding every pushed root and its dependencies (Spack's
/// <c>--tag</c>).</param>
public sealed record PushOptions(
    bool Force = false,
    int Parallelism = 2,
    bool FailFast = false,
    string? SpackPrefix = null,
    bool UpdateIndex = true,
    IndexCache? IndexCache = null,
    string? BaseImage = null,
    string? Tag = null);

/// <summary>What happened to one spec.</summary>
public enum PushStatus
{
    Pushed,
    SkippedExists,
    SkippedExternal,
    SkippedNotInstalled,
    Failed,
    NotAttempted,
}

/// <summary>One spec's result: sizes are the prefix content read and the tarball written.</summary>
public sealed record PushOutcome(string Name, string Hash, string Display, PushStatus Status, string? Reason = null,
    long ContentBytes = 0, long TarballBytes = 0, TimeSpan Elapsed = default)
{
    /// <summary>What would change the outcome (overwrite an existing entry), for the host to render.</summary>
    public ErrorHint? Hint { get; init; }
}

/// <summary>Progress of one package: <c>Done</c> of <c>Total</c> content bytes archived, or (once) its
/// outcome.</summary>
public sealed record PushProgress(string Name, string Hash, long Done, long Total, PushOutcome? Finished = null);

/// <summary>The whole push: per-spec outcomes in push order, the layout written and what happened afterwards.</summary>
public sealed record PushResult(string Mirror, PushLayout Layout, IReadOnlyList<PushOutcome> Outcomes,
    string? PublishedKey, IndexResult? Index, TimeSpan Elapsed)
{
    /// <summary>OCI <c>--tag</c>: the tag of the image of all pushed specs, when one was written.</summary>
    public string? TaggedImage { get; init; }

    /// <summary>
    /// True when the mirror is a Depot server, which updated its index as each entry was committed (no index or key
    /// was written by the push).
    /// </summary>
    public bool IndexedByServer { get; init; }

    public int Count(PushStatus status) => Outcomes.Count(o => o.Status == status);

    public bool AnyFailed => Outcomes.Any(o => o.Status is PushStatus.Failed or PushStatus.NotAttempted);
}
