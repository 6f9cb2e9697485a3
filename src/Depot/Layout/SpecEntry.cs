namespace Depot.Layout;

/// <summary>
/// A spec's entry in a build cache as found by listing: the key of its manifest (v3) or spec file (v2) and the DAG
/// hash its name carries. The entry's content is only read when needed.
/// </summary>
public sealed record SpecEntry(string Key, string Hash, bool Signed)
{
    /// <summary><c>name-version/hash7</c> from the entry's file name, for messages.</summary>
    public string DisplayName
    {
        get
        {
            var file = Key[(Key.LastIndexOf('/') + 1)..];
            var at = file.LastIndexOf("-" + Hash, System.StringComparison.Ordinal);
            var stem = at > 0 ? file[..at] : file;
            return $"{stem}/{Hash[..7]}";
        }
    }
}

/// <summary>A tarball an entry points at: where it is and the sha256 (and size, when known) it must have.</summary>
public sealed record TarballRef(string Key, string Sha256, long? Length);

/// <summary>
/// What reading an entry gives: its spec, its tarball (null when a v2 spec file carries no usable
/// <c>binary_cache_checksum</c>), and who signed it (null when not checked or unsigned).
/// </summary>
public sealed record EntryContent(Specs.SpecFile Spec, TarballRef? Tarball, string? SignerFingerprint);
