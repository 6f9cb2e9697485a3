using System.Buffers;
using System.IO.Compression;

namespace Depot.Formats;

/// <summary>
/// Bounded gzip helpers for small metadata (spec blobs, indexes): neither a gzip bomb nor a lying size trailer can
/// exhaust memory. The trailer's ISIZE is only a hint, never trusted for an allocation beyond what the compressed
/// bytes could possibly inflate to (deflate cannot do better than about 1032:1), and output past the limit is
/// refused with one line naming the object.
/// </summary>
public static class Gzip
{
    /// <summary>Spec files and blobs, manifests: far above any real one (a few KiB to a few MiB).</summary>
    public const long SpecLimit = 64L << 20;

    /// <summary>
    /// Indexes, which are read whole: 512 MiB inflated (a 20,000-spec index is about 30 MB). The one object a mirror
    /// can make cost more than <see cref="SpecLimit"/> of memory.
    /// </summary>
    public const long IndexLimit = 512L << 20;

    /// <summary>The limit when none is given: the spec one.</summary>
    public const long DefaultLimit = SpecLimit;

    // Deflate's best case is 258 bytes per ~2 bits: an inflated size above this many times the input is impossible.
    private const long MaxRatio = 1032;

    /// <exception cref="InvalidContentException">Corrupt data, or more than <paramref name="limit"/> bytes
    /// inflated.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> content, string location, long limit = DefaultLimit)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialSize(content, limit));
        try
        {
            var length = Inflate(content, location, limit, ref buffer);
            return buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Like <see cref="Decompress"/>, into a buffer rented from the shared pool (<paramref name="rented"/> is then
    /// non-null and must be returned). Indexing inflates thousands of spec blobs only to scan them; renting keeps that
    /// from churning the garbage collector.
    /// </summary>
    public static ReadOnlyMemory<byte> DecompressPooled(ReadOnlySpan<byte> content, string location, out byte[]? rented,
        long limit = DefaultLimit)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialSize(content, limit));
        try
        {
            var length = Inflate(content, location, limit, ref buffer);
            rented = buffer;
            return buffer.AsMemory(0, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>The first buffer: the trailer's size when it is possible for this input, at most the limit.</summary>
    private static int InitialSize(ReadOnlySpan<byte> content, long limit)
    {
        var claimed = content.Length >= 18 ? BitConverter.ToUInt32(content[^4..]) : 0u;
        var possible = Math.Min(content.Length * MaxRatio, limit);
        // One byte more than the data, so that the end is seen without growing the buffer.
        return (int)Math.Min(Math.Max(Math.Min(claimed, possible) + 1, 4096), limit);
    }

    // Inflates into a pooled buffer, doubling it as needed up to the limit; one more byte past the limit is refused.
    // Returns the inflated length.
    private static int Inflate(ReadOnlySpan<byte> content, string location, long limit, ref byte[] buffer)
    {
        try
        {
            using var input = new MemoryStream(content.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            var done = 0;
            while (true)
            {
                var room = (int)Math.Min(buffer.Length, limit);
                if (done == room)
                {
                    if (done == limit)
                    {
                        return gzip.ReadByte() < 0 ? done
                            : throw new InvalidContentException(location,
                                $"inflates to more than {limit >> 20} MiB, the most Depot reads for such an object");
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, done).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                    room = (int)Math.Min(buffer.Length, limit);
                }

                var read = gzip.Read(buffer, done, room - done);
                if (read == 0)
                {
                    return done;
                }

                done += read;
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidContentException(location, "corrupt gzip data: " + e.Message);
        }
    }
}
