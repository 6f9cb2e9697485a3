namespace Depot.Storage;

/// <summary>
/// An object in a store: its key (relative to the mirror root, '/'-separated), size in bytes, and, from
/// <see cref="IObjectStore.GetInfoAsync"/>, a version token (ETag, generation) for conditional writes.
/// </summary>
public sealed record StoreObject(string Key, long Length, DateTimeOffset? LastModified = null, string? Version = null);

/// <summary>
/// The one storage seam: a flat namespace of keys under a mirror root ('/'-separated, no leading '/'), as a local
/// directory, a bucket prefix or a container provides. Operations use only this interface and never know which
/// store they talk to; every implementation runs the same contract test suite.
/// </summary>
public interface IObjectStore
{
    /// <summary>Human-readable root of the store (a path or URL), used in messages.</summary>
    string Root { get; }

    /// <summary>
    /// False for stores that cannot enumerate their keys (plain HTTP): layouts then take the entries a cache holds
    /// from its index, as Spack does over HTTP.
    /// </summary>
    bool CanList => true;

    /// <summary>
    /// Lists every object whose key starts with <paramref name="prefix"/>, at any depth (a prefix that ends in '/'
    /// lists a "folder"). Order is unspecified. A prefix that matches nothing yields nothing (no error).
    /// </summary>
    IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>
    /// Like <see cref="ListAsync"/>, keys only. The default takes them from <see cref="ListAsync"/>; a store may
    /// answer faster (a local directory then needs no stat per file).
    /// </summary>
    async IAsyncEnumerable<string> ListKeysAsync(string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var obj in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return obj.Key;
        }
    }

    /// <summary>Returns the object's size and time, or null when no object has that key.</summary>
    Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Opens an object for reading. The caller disposes the stream.</summary>
    /// <exception cref="StoreObjectNotFoundException">No object has that key.</exception>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes (or replaces) an object with the whole of <paramref name="content"/>. Atomic: readers see either the
    /// old object or the complete new one, never a partial one, even if the writer is killed.
    /// </summary>
    Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes only if the object is as the caller last saw it: <paramref name="expectedVersion"/> is the
    /// <see cref="StoreObject.Version"/> it read, or null for "must not exist yet". Returns false, writing nothing, when
    /// another writer got there first (so two concurrent index updates cannot lose each other's entries). Stores
    /// override this with the service's own conditional request (S3 <c>If-Match</c>/<c>If-None-Match</c>, GCS
    /// <c>ifGenerationMatch</c>, Azure <c>If-Match</c>/<c>If-None-Match</c>, a lock for a directory); this default
    /// compares and then writes, which narrows the race without closing it.
    /// </summary>
    async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        if ((await GetInfoAsync(key, cancellationToken).ConfigureAwait(false))?.Version != expectedVersion)
        {
            return false;
        }

        await WriteAsync(key, content, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Reads a small object whole (manifests, spec files, indexes), refusing one over <paramref name="maxBytes"/>.
    /// The default goes through <see cref="OpenReadAsync"/>; stores may answer faster.
    /// </summary>
    /// <exception cref="StoreObjectNotFoundException">No object has that key.</exception>
    /// <exception cref="InvalidContentException">The object is larger than <paramref name="maxBytes"/>.</exception>
    async Task<byte[]> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken = default)
    {
        await using var stream = await OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        return await ObjectStoreExtensions.ReadBoundedAsync(stream, Describe(key), maxBytes, cancellationToken).ConfigureAwait(false);
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

    /// <summary>The location of <paramref name="key"/> as a user would type it (path or URL), for messages.</summary>
    string Describe(string key);
}

/// <summary>Thrown when a key names no object.</summary>
public sealed class StoreObjectNotFoundException : DepotException
{
    public StoreObjectNotFoundException(string location)
        : base(ErrorKind.NotFound, $"{location}: not found") => Location = location;

    public string Location { get; }
}
