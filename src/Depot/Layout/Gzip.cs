using System.IO.Compression;

namespace Depot.Layout;

/// <summary>Bounded gzip helpers for small metadata (spec blobs, indexes): a gzip bomb cannot exhaust memory.</summary>
public static class Gzip
{
    public const long DefaultLimit = 512L << 20;

    /// <exception cref="InvalidContentException">Corrupt data, or more than <paramref name="limit"/> bytes inflated.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> content, string location, long limit = DefaultLimit)
    {
        try
        {
            // The gzip trailer's ISIZE is the inflated size (mod 4 GiB): size the result exactly, one allocation.
            var expected = content.Length >= 18 ? BitConverter.ToUInt32(content[^4..]) : 0u;
            using var input = new MemoryStream(content.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            if (expected > 0 && expected <= limit)
            {
                var result = new byte[expected];
                var done = 0;
                int read;
                while (done < result.Length && (read = gzip.Read(result, done, result.Length - done)) > 0)
                {
                    done += read;
                }

                if (done < result.Length)
                {
                    return result[..done];
                }

                var extra = gzip.ReadByte();
                if (extra < 0)
                {
                    return result;
                }

                // More data than the trailer said (a member over 4 GiB or several members): read on.
                using var rest = new MemoryStream();
                rest.Write(result);
                rest.WriteByte((byte)extra);
                CopyBounded(gzip, rest, limit, location);
                return rest.ToArray();
            }

            using var output = new MemoryStream();
            CopyBounded(gzip, output, limit, location);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidContentException(location, "corrupt gzip data: " + e.Message);
        }
    }

    /// <summary>
    /// Like <see cref="Decompress"/>, into a buffer rented from the shared pool when the gzip trailer gives the size
    /// (<paramref name="rented"/> is then non-null and must be returned). Indexing inflates thousands of spec blobs
    /// only to scan them; renting keeps that from churning the garbage collector.
    /// </summary>
    public static ReadOnlyMemory<byte> DecompressPooled(ReadOnlySpan<byte> content, string location, out byte[]? rented, long limit = DefaultLimit)
    {
        rented = null;
        var expected = content.Length >= 18 ? BitConverter.ToUInt32(content[^4..]) : 0u;
        if (expected == 0 || expected > limit || expected > 64 << 20)
        {
            return Decompress(content, location, limit);
        }

        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)expected);
        try
        {
            using var input = new MemoryStream(content.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            var done = 0;
            int read;
            while (done < expected && (read = gzip.Read(buffer, done, (int)expected - done)) > 0)
            {
                done += read;
            }

            if (done == expected && gzip.ReadByte() < 0)
            {
                rented = buffer;
                return buffer.AsMemory(0, done);
            }
        }
        catch (InvalidDataException e)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            throw new InvalidContentException(location, "corrupt gzip data: " + e.Message);
        }

        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        return Decompress(content, location, limit);
    }

    private static void CopyBounded(Stream from, MemoryStream to, long limit, string location)
    {
        var buffer = new byte[16384];
        int read;
        while ((read = from.Read(buffer)) > 0)
        {
            if (to.Length + read > limit)
            {
                throw new InvalidContentException(location, $"inflates to more than {limit >> 20} MiB");
            }

            to.Write(buffer, 0, read);
        }
    }
}
