using Depot.Layout;

namespace Depot.Operations;

/// <summary>
/// The index an incremental <see cref="IndexOperation"/> starts from: its record table (cached locally when Depot
/// wrote or read this very index before, else read from the JSON) and the sha256 of the bytes read.
/// </summary>
/// <param name="Snapshot">The previous index, or null when there is none (or it was unreadable).</param>
/// <param name="Checksum">The sha256 of the bytes read (see <see cref="IndexCache.ChecksumOfRead"/>).</param>
/// <param name="TableCached">True when the record table came from the local cache.</param>
/// <param name="Issue">Why the index present could not be used, if so.</param>
internal sealed record PreviousIndex(IndexSnapshot? Snapshot, string? Checksum, bool TableCached, string? Issue)
{
    public static readonly PreviousIndex None = new(null, null, false, null);

    /// <summary>
    /// Reads the previous index. The cached table of the index the mirror claims is loaded while the index itself is
    /// read and its checksum checked (two cores busy, not one after the other); it is used only if the bytes read
    /// are the ones claimed.
    /// </summary>
    public static async Task<PreviousIndex> ReadAsync(IBuildCacheLayout layout, IndexCache? cache,
        CancellationToken cancellationToken)
    {
        try
        {
            var claimed = await layout.ReadIndexChecksumAsync(cancellationToken).ConfigureAwait(false);
            var claimedKey = claimed is null || cache is null ? null
                : IndexCache.Key(layout.Store, layout.Version, claimed);
            var table = claimedKey is null ? null
                : Task.Run(() => cache!.TryReadTable(claimedKey, layout.Store.Describe(layout.IndexKey)),
                    cancellationToken);
            if (await layout.ReadIndexBytesAsync(cancellationToken).ConfigureAwait(false) is not { } found)
            {
                return None;
            }

            // The record table of this exact index may be cached locally (keyed by the sha256 of the bytes read).
            var checksum = await IndexCache.ChecksumOfRead(layout, claimed, found.Json, cancellationToken)
                .ConfigureAwait(false);
            var key = checksum is null ? null : IndexCache.Key(layout.Store, layout.Version, checksum);
            var snapshot = key is null ? null
                : key == claimedKey ? (await table!.ConfigureAwait(false))?.Bind(found.Json, found.Location)
                : cache?.TryReadSnapshot(key, found.Json, found.Location);
            return snapshot is not null ? new PreviousIndex(snapshot, checksum, true, null)
                : new PreviousIndex(IndexSnapshot.Read(found.Json, found.Location), checksum, false, null);
        }
        catch (InvalidContentException e)
        {
            return None with { Issue = e.Message + " (previous index unreadable: rebuilt from every entry)" };
        }
    }
}
