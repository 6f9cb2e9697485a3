using System.Text;

namespace Depot.Storage;

/// <summary>Conveniences over the store capabilities for small objects (manifests, indexes, spec files).</summary>
public static class ObjectStoreExtensions
{
    /// <summary>Small objects only: reads the whole object into memory, refusing anything over
    /// <paramref name="maxBytes"/>.</summary>
    public static Task<byte[]> ReadAllBytesAsync(this IStoreReader store, string key, long maxBytes = 512L << 20,
        CancellationToken cancellationToken = default) => store.ReadAllBytesAsync(key, maxBytes, cancellationToken);

    /// <summary>Reads a stream to its end into memory, refusing more than <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]> ReadBoundedAsync(Stream stream, string location, long maxBytes,
        CancellationToken cancellationToken)
    {
        using var buffer = stream.CanSeek ? new MemoryStream((int)Math.Min(stream.Length, maxBytes))
            : new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new InvalidContentException(location, $"larger than the {maxBytes >> 20} MiB allowed");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Returns the object's bytes, or null when it does not exist.</summary>
    public static Task<byte[]?> TryReadAllBytesAsync(this IStoreReader store, string key,
        CancellationToken cancellationToken = default) => store.TryReadAllBytesAsync(key, 512L << 20,
        cancellationToken);

    /// <summary>Returns the object's bytes, or null when it does not exist; refuses more than
    /// <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> TryReadAllBytesAsync(this IStoreReader store, string key, long maxBytes,
        CancellationToken cancellationToken = default)
    {
        try
        {
            return await store.ReadAllBytesAsync(key, maxBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreObjectNotFoundException)
        {
            return null;
        }
    }

    public static async Task WriteAllBytesAsync(this IStoreWriter store, string key, ReadOnlyMemory<byte> content,
        CancellationToken cancellationToken = default)
    {
        using var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var array)
            ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
        await store.WriteAsync(key, stream, cancellationToken).ConfigureAwait(false);
    }

    public static Task WriteAllTextAsync(this IStoreWriter store, string key, string text,
        CancellationToken cancellationToken = default) =>
        store.WriteAllBytesAsync(key, Encoding.UTF8.GetBytes(text), cancellationToken);

    public static async Task<bool> ExistsAsync(this IStoreReader store, string key,
        CancellationToken cancellationToken = default) =>
        await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is not null;
}
