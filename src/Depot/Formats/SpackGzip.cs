using System.IO.Compression;

namespace Depot.Formats;

/// <summary>
/// gzip framed like Spack's <c>GzipFile(filename="", mtime=0, compresslevel=6)</c>: header
/// <c>1f 8b 08 00 00000000 00 ff</c> (no name, mtime 0, XFL 0, OS 255). The deflate data itself comes from .NET's
/// zlib at level 6, which is valid gzip but not Python's exact bytes; readers only ever check the stored checksum.
/// </summary>
public static class SpackGzip
{
    /// <summary>A compressing stream: write plain bytes to it, dispose it to finish the gzip member.</summary>
    public static Stream CreateCompressor(Stream output, bool leaveOpen = false) =>
        new GZipStream(new HeaderFixingStream(output, leaveOpen), new ZLibCompressionOptions { CompressionLevel = 6 },
            leaveOpen: false);

    /// <summary>Compresses a small buffer (spec blobs).</summary>
    public static byte[] Compress(ReadOnlySpan<byte> content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = CreateCompressor(buffer, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }

    /// <summary>Passes bytes through, rewriting header bytes 4–9 (MTIME, XFL, OS) as Python writes them.</summary>
    private sealed class HeaderFixingStream(Stream inner, bool leaveOpen) : WriteOnlyStream
    {
        private static readonly byte[] Fixed = [0, 0, 0, 0, 0, 0xff];
        private long position;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (position < 10)
            {
                var copy = buffer.ToArray();
                Patch(copy);
                inner.Write(copy);
            }
            else
            {
                inner.Write(buffer);
            }

            position += buffer.Length;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            if (position < 10)
            {
                var copy = buffer.ToArray();
                Patch(copy);
                await inner.WriteAsync(copy, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            position += buffer.Length;
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing && !leaveOpen)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private void Patch(Span<byte> chunk)
        {
            for (var i = 0; i < chunk.Length && position + i < 10; i++)
            {
                var at = position + i;
                if (at >= 4)
                {
                    chunk[i] = Fixed[at - 4];
                }
            }
        }
    }
}
