using Depot.Storage;

namespace Depot.Sources;

/// <summary>Where under <c>_source-cache/</c> an object lives, which says how it was named.</summary>
public enum SourceObjectKind
{
    /// <summary><c>archive/&lt;xx&gt;/&lt;digest&gt;[.ext]</c>: named by its checksum, so its bytes can be
    /// checked.</summary>
    Archive,

    /// <summary>A VCS checkout Spack archived (<c>git/</c>, <c>svn/</c>, <c>hg/</c>, <c>cvs/</c>): named by the
    /// revision, not by its bytes (a re-archived checkout differs byte for byte), so it cannot be checked.</summary>
    Checkout,

    /// <summary>Anything else under <c>_source-cache/</c>: no place Spack stores sources (a leftover, a stray
    /// file).</summary>
    Unknown,
}

/// <summary>
/// One object of a source mirror, as its key describes it: the kind, the digest an archive is named by (with its
/// extension), and, when the key is not one Spack would write, why.
/// </summary>
/// <param name="Object">Key (relative to the mirror root), size and time, as listed.</param>
/// <param name="Kind">Where it lives.</param>
/// <param name="Digest">An archive's checksum, from its name; null for other kinds and malformed names.</param>
/// <param name="Extension">An archive's extension (<c>tar.gz</c>), or null when it has none.</param>
/// <param name="Problem">Why the key is not well-formed, or null when it is.</param>
public sealed record SourceObject(StoreObject Object, SourceObjectKind Kind, SourceDigest? Digest,
    string? Extension, string? Problem)
{
    /// <summary>The object's key.</summary>
    public string Key => Object.Key;

    /// <summary>True when the key is one Spack writes (and so one it may fetch).</summary>
    public bool IsWellFormed => Problem is null;

    /// <summary>True when the bytes can be checked against the name (a well-formed archive).</summary>
    public bool IsCheckable => IsWellFormed && Digest is not null;
}
