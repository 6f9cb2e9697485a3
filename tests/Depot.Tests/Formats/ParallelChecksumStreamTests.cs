using System.Security.Cryptography;
using Depot.Formats;

namespace Depot.Tests.Formats;

public class ParallelChecksumStreamTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3 << 20)] // several of the hasher's pieces in one write
    public async Task TheChecksumAndLengthAreThoseOfEverythingWrittenInOrder(int size)
    {
        var data = new byte[size + 70_000];
        new Random(size).NextBytes(data);
        using var sink = new MemoryStream();
        await using var hashing = new ParallelChecksumStream(sink);
        await hashing.WriteAsync(data.AsMemory(0, size), TestContext.Current.CancellationToken);
        var reused = data[size..]; // the caller's buffer changes once a write returns
        await hashing.WriteAsync(reused, TestContext.Current.CancellationToken);
        Array.Clear(reused);
        hashing.Write(data.AsSpan(0, 10));

        var (sha256, length) = await hashing.FinishAsync();
        var expected = data.Concat(data.Take(10)).ToArray();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expected)), sha256);
        Assert.Equal(expected.Length, length);
        Assert.Equal(expected, sink.ToArray());
    }
}
