namespace Depot.Storage;

/// <summary>
/// The write capability: atomic writes, conditional writes, staged objects and deletes. A writer can read what it
/// wrote (conditional writes compare versions). Every implementation runs the write contract suite
/// (<c>StoreContractTests</c>).
/// </summary>
public interface IStoreWriter : IStoreReader
{
    /// <summary>
    /// Writes (or replaces) an object with the whole of <paramref name="content"/>. Atomic: readers see either the
    /// old object or the complete new one, never a partial one, even if the writer is killed.
    /// </summary>
    /// <exception cref="DepotException">
    /// The key is malformed or escapes the root, or the store refused the write.
    /// </exception>
    Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether <see cref="WriteIfUnchangedAsync"/> is atomic: true when the backend itself refuses a write whose
    /// condition no longer holds, in the same step as the write (S3 and Azure <c>If-Match</c>/<c>If-None-Match</c>,
    /// GCS <c>ifGenerationMatch</c>, a directory's lock around compare and rename), so of two writers holding the
    /// same version exactly one wins. False when the store can only compare first and then write (an OCI registry
    /// has no conditional tag update; s3rver ignores conditions on PUT): a stale writer is still refused when its
    /// compare comes after the newer write, but one racing between the compare and the write lands. Callers that
    /// must not lose a concurrent update (the index) verify after writing on such stores and redo their update
    /// (<c>IndexOperation</c>). Every writer states it; the contract suite checks the claim.
    /// </summary>
    bool ConditionalWritesAreAtomic { get; }

    /// <summary>
    /// Writes only if the object is as the caller last saw it: <paramref name="expectedVersion"/> is the
    /// <see cref="StoreObject.Version"/> it read, or null for "must not exist yet". Returns false, writing nothing,
    /// when another writer got there first (so two concurrent index updates cannot lose each other's entries). Stores
    /// override this with the service's own conditional request (S3 <c>If-Match</c>/<c>If-None-Match</c>, GCS
    /// <c>ifGenerationMatch</c>, Azure <c>If-Match</c>/<c>If-None-Match</c>, a lock for a directory); this default
    /// compares and then writes, which narrows the race without closing it (see
    /// <see cref="ConditionalWritesAreAtomic"/>).
    /// </summary>
    async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        if ((await GetInfoAsync(key, cancellationToken).ConfigureAwait(false))?.Version != expectedVersion)
        {
            return false;
        }

        await WriteAsync(key, content, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Starts an object whose key is known only once its content is complete (a content-addressed blob: the key is
    /// its sha256). Write <see cref="IStagedObject.Content"/>, then <see cref="IStagedObject.CommitAsync"/> publishes
    /// it under a key, atomically as <see cref="WriteAsync"/> does; disposing an uncommitted object discards it and
    /// leaves nothing visible. The default stages in a local temporary file and uploads it on commit; a store may
    /// stage in place (a local directory renames).
    /// </summary>
    Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IStagedObject>(new TempFileStagedObject(this));

    /// <summary>Deletes an object. Returns false when there was none (not an error).</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);
}
