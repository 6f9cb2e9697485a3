using Depot.Specs;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>
/// One build cache layout on a store (Spack 1.x's v3, or the v2 <c>build_cache/</c> layout of Spack 0.21 to 0.23):
/// where entries and the index live and how they are read and written.
/// </summary>
public interface IBuildCacheLayout
{
    /// <summary>3 or 2.</summary>
    int Version { get; }

    IObjectStore Store { get; }

    /// <summary>Database version of this layout's index (8 for v3, 7 for v2).</summary>
    int IndexDatabaseVersion { get; }

    /// <summary>The key of the index, for messages.</summary>
    string IndexKey { get; }

    /// <summary>Lists spec entries by name only; nothing is read.</summary>
    IAsyncEnumerable<SpecEntry> ListSpecEntriesAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads an entry's spec file, checking the blob's size and checksum (v3).</summary>
    /// <exception cref="InvalidContentException">The entry is malformed or its checksum does not match.</exception>
    Task<SpecFile> ReadSpecAsync(SpecEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Reads the index, or returns null when the cache has none.</summary>
    /// <exception cref="InvalidContentException">The index exists but is malformed or fails its checksum.</exception>
    Task<BuildCacheIndex?> ReadIndexAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the index so that a reader sees the old one until the new one is complete.</summary>
    Task WriteIndexAsync(BuildCacheIndex index, CancellationToken cancellationToken = default);
}
