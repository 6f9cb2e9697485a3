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
            using var input = new MemoryStream(content.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream((int)Math.Min(limit, content.Length * 8L + 256));
            var buffer = new byte[16384];
            int read;
            while ((read = gzip.Read(buffer)) > 0)
            {
                if (output.Length + read > limit)
                {
                    throw new InvalidContentException(location, $"inflates to more than {limit >> 20} MiB");
                }

                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidContentException(location, "corrupt gzip data: " + e.Message);
        }
    }
}
