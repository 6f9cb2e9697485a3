using System.Security.Cryptography;
using System.Text;
using Depot.Storage;

namespace Depot.Tests.Storage;

/// <summary>
/// Ranged reads (<see cref="IStoreReader.OpenReadRangeAsync"/>): every store, HTTP-like semantics. Each range is read
/// under an artifact-like key and under a content-addressed blob key (a registry reads those as blobs).
/// </summary>
public abstract partial class StoreReaderContractTests<TStore>
{
    private static readonly byte[] Digits = Encoding.ASCII.GetBytes("0123456789");

    private static string BlobKey(byte[] content)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(content));
        return $"blobs/sha256/{hex[..2]}/{hex}";
    }

    [Theory]
    [InlineData(0, 4L, "0123")] // the start
    [InlineData(3, 4L, "3456")] // the middle
    [InlineData(6, null, "6789")] // to the end
    [InlineData(0, null, "0123456789")] // all of it
    [InlineData(7, 100L, "789")] // a length past the end: what exists
    [InlineData(4, 0L, "")] // zero length
    [InlineData(10, null, "")] // the offset at the size
    [InlineData(10, 3L, "")]
    public async Task RangesYieldExactlyTheirBytes(long offset, long? length, string expected)
    {
        var store = await CreateSeededAsync(new Dictionary<string, byte[]>
        {
            ["v3/range.bin"] = Digits,
            [BlobKey(Digits)] = Digits,
        });
        foreach (var key in new[] { "v3/range.bin", BlobKey(Digits) })
        {
            await using var read = await store.OpenReadRangeAsync(key, offset, length, Token);
            Assert.Equal(expected, await new StreamReader(read).ReadToEndAsync(Token));
        }
    }

    [Theory]
    [InlineData(2, 3L)]
    [InlineData(2, null)]
    [InlineData(0, 0L)]
    public async Task RangesOfAMissingObjectAreNotFound(long offset, long? length)
    {
        var store = await SeededAsync(("present/x", "1"));
        var e = await Assert.ThrowsAsync<StoreObjectNotFoundException>(
            () => store.OpenReadRangeAsync("nope/x", offset, length, Token));
        Assert.Contains("nope/x", e.Message, StringComparison.Ordinal);
        var missingBlob = BlobKey("not stored"u8.ToArray());
        await Assert.ThrowsAsync<StoreObjectNotFoundException>(
            () => store.OpenReadRangeAsync(missingBlob, offset, length, Token));
    }

    [Theory]
    [InlineData(11, null)]
    [InlineData(50, 5L)]
    [InlineData(11, 0L)]
    public async Task ARangeStartingPastTheEndIsRefusedWithTheSize(long offset, long? length)
    {
        var store = await CreateSeededAsync(new Dictionary<string, byte[]> { ["v3/range.bin"] = Digits });
        var e = await Assert.ThrowsAsync<RangeNotSatisfiableException>(
            () => store.OpenReadRangeAsync("v3/range.bin", offset, length, Token));
        Assert.Equal((Digits.LongLength, offset), (e.Size, e.Offset));
        Assert.Contains("v3/range.bin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NegativeOffsetsAndLengthsAreRefused()
    {
        var store = await CreateSeededAsync(new Dictionary<string, byte[]> { ["v3/range.bin"] = Digits });
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => store.OpenReadRangeAsync("v3/range.bin", -1, null, Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => store.OpenReadRangeAsync("v3/range.bin", 0, -1, Token));
    }

    [Fact]
    public async Task RangesOfALargeObjectStreamThrough()
    {
        var content = new byte[(6 << 20) + 7];
        new Random(18).NextBytes(content);
        var store = await CreateSeededAsync(new Dictionary<string, byte[]> { ["blobs/sha256/ab/large"] = content });
        (long Offset, long? Length)[] ranges = [((1 << 20) + 3, 4 << 20), (5 << 20, null), (0, 100)];
        foreach (var (offset, length) in ranges)
        {
            await using var read = await store.OpenReadRangeAsync("blobs/sha256/ab/large", offset, length, Token);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            long total = 0;
            int n;
            while ((n = await read.ReadAsync(buffer, Token)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                total += n;
            }

            var expected = content.AsSpan((int)offset, (int)(length ?? content.Length - offset));
            Assert.Equal(expected.Length, total);
            Assert.Equal(SHA256.HashData(expected), hash.GetHashAndReset());
        }
    }
}
