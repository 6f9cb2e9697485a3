using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Depot.Formats;
using Depot.Layout;

namespace Depot.Tests.Formats;

/// <summary>Issue 14, class 6: gzip's size trailer is a claim; memory follows the data actually inflated, up to a
/// cap.</summary>
public sealed class GzipTests
{
    /// <summary>Real gzip of <paramref name="content"/> whose ISIZE trailer is replaced by
    /// <paramref name="claimed"/>.</summary>
    internal static byte[] LyingGzip(byte[] content, uint claimed)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(content);
        }

        var bytes = buffer.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), claimed);
        return bytes;
    }

    private static byte[] Compress(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }

    [Fact]
    public void ATrailerClaiming512MiBCostsWhatTheBytesCanInflateTo()
    {
        var blob = LyingGzip("{}"u8.ToArray(), 512u << 20);
        Assert.True(blob.Length < 30);
        foreach (var pooled in new[] { false, true })
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                if (pooled)
                {
                    Gzip.DecompressPooled(blob, "blob", out var rented);
                    if (rented is not null)
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(rented);
                    }
                }
                else
                {
                    Gzip.Decompress(blob, "blob");
                }
            }
            catch (InvalidContentException e)
            {
                // zlib checks the trailer once the data ends: a lie is corrupt data, after the fact.
                Assert.StartsWith("blob: corrupt gzip data", e.Message, StringComparison.Ordinal);
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 1 << 20,
                $"{allocated} bytes allocated for a {blob.Length}-byte blob (pooled: {pooled})");
        }
    }

    [Fact]
    public void HonestTrailersStillInflateExactly()
    {
        var content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"spec\": {\"nodes\": []}} ", 50_000)));
        Assert.Equal(content, Gzip.Decompress(Compress(content), "blob"));
        var json = Gzip.DecompressPooled(Compress(content), "blob", out var rented);
        Assert.Equal(content, json.ToArray());
        Assert.NotNull(rented);
        System.Buffers.ArrayPool<byte>.Shared.Return(rented);

        // Two members (a trailer that counts only the last): all of it, grown past the hint.
        var twice = Compress(content).Concat(Compress(content)).ToArray();
        Assert.Equal(content.Concat(content), Gzip.Decompress(twice, "blob"));
    }

    [Fact]
    public void ABombIsRefusedAtTheCapNamingTheObject()
    {
        var bomb = Compress(new byte[(64 << 20) + 1]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidContentException>(() => Gzip.Decompress(bomb, "mirror/blobs/sha256/ab/abc"));
        Assert.Equal(
            "mirror/blobs/sha256/ab/abc: inflates to more than 64 MiB, the most Depot reads for such an object",
            e.Message);
        // The buffer doubles up to the cap (pooled): what is allocated is bounded by about twice the cap, whatever the
        // input.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 200L << 20);

        // Exactly at the cap is fine.
        Assert.Equal(64 << 20, Gzip.Decompress(Compress(new byte[64 << 20]), "blob").Length);
    }
}
