namespace Depot.Storage;

/// <summary>
/// An object in a store: its key (relative to the mirror root, '/'-separated), size in bytes, and, from
/// <see cref="IStoreReader.GetInfoAsync"/>, a version token (ETag, generation) for conditional writes.
/// </summary>
public sealed record StoreObject(string Key, long Length, DateTimeOffset? LastModified = null, string? Version = null);

/// <summary>
/// The read capability of a store: objects by key under a mirror root ('/'-separated, no leading '/'). Every store
/// has it; a read-only store (plain HTTP) has only it, so it cannot be handed to code that lists or writes. Every
/// implementation runs the read contract suite (<c>StoreReaderContractTests</c>).
/// </summary>
public interface IStoreReader
{
    /// <summary>Human-readable root of the store (a path or URL), used in messages.</summary>
    string Root { get; }

    /// <summary>Returns the object's size, time and version, or null when no object has that key.</summary>
    /// <exception cref="DepotException">
    /// The key is malformed or escapes the root, or the store cannot be reached.
    /// </exception>
    Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Opens an object for reading. The caller disposes the stream.</summary>
    /// <exception cref="StoreObjectNotFoundException">No object has that key.</exception>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens part of an object: <paramref name="length"/> bytes from <paramref name="offset"/>, or to the end when
    /// <paramref name="length"/> is null; streamed, never read whole first. A range that runs past the end yields the
    /// bytes that exist (as HTTP does); an offset equal to the size, or a zero length, yields an empty stream. The
    /// stream yields exactly those bytes. The default opens the object and skips forward (a seek when the stream can);
    /// stores that can ask for a range (seek, a Range header) do.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative offset or length.</exception>
    /// <exception cref="StoreObjectNotFoundException">No object has that key.</exception>
    /// <exception cref="RangeNotSatisfiableException">The offset is past the object's size.</exception>
    async Task<Stream> OpenReadRangeAsync(string key, long offset, long? length,
        CancellationToken cancellationToken = default)
    {
        StoreRange.CheckArguments(offset, length);
        if (length == 0)
        {
            return await StoreRange.ResolveEmptyAsync(this, key, offset, cancellationToken).ConfigureAwait(false);
        }

        var whole = await OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        return await StoreRange.SliceAsync(whole, offset, length, Describe(key), cancellationToken)
            .ConfigureAwait(false);
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
        return await ObjectStoreExtensions.ReadBoundedAsync(stream, Describe(key), maxBytes, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The location of <paramref name="key"/> as a user would type it (path or URL), for messages.</summary>
    string Describe(string key);
}

/// <summary>Thrown when a key names no object.</summary>
public sealed class StoreObjectNotFoundException : DepotException
{
    /// <summary>Names the missing object by its <paramref name="location"/> (path or URL).</summary>
    public StoreObjectNotFoundException(string location)
        : base(ErrorKind.NotFound, $"{location}: not found") => Location = location;

    /// <summary>The missing object's path or URL.</summary>
    public string Location { get; }
}
