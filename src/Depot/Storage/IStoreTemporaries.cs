namespace Depot.Storage;

/// <summary>
/// A store whose writers leave work in progress inside the mirror, under names its listings skip (a directory's
/// <c>.depot-tmp-*</c> files: objects staged in place, writes not yet renamed). A writer killed mid-write leaves them
/// behind; <c>PruneOperation</c> removes those older than its grace period with
/// <see cref="IStoreWriter.DeleteAsync"/>. Stores that stage outside the mirror (S3, GCS, Azure: local files, uploaded
/// on commit) have none to offer and do not implement this.
/// </summary>
public interface IStoreTemporaries
{
    /// <summary>Every temporary object, with its size and last write; never an object a listing shows, nor a lock a
    /// writer holds.</summary>
    IAsyncEnumerable<StoreObject> ListTemporaryAsync(CancellationToken cancellationToken = default);
}
