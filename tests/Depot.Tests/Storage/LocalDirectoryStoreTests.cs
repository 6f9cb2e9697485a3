using Depot.Storage;
using Depot.Storage.Providers;

namespace Depot.Tests.Storage;

public sealed class LocalDirectoryStoreTests : StoreContractTests
{
    private readonly TempDir temp = new();

    protected override IObjectStore CreateStore() => new LocalDirectoryStore(temp.Path);

    public override ValueTask DisposeAsync()
    {
        temp.Dispose();
        return base.DisposeAsync();
    }

    [Fact]
    public async Task FailedWritesLeaveNoTemporaryFilesBehind()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => Store.WriteAsync("d/f", new BrokenStream(), Token));
        Assert.Empty(Directory.EnumerateFiles(temp.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task RangesReadTheFileItselfNotACopy()
    {
        // Bytes changed in place after the range is opened are the ones read: the range is a seek in the open file,
        // nothing was read ahead into memory.
        var content = new byte[4 << 20];
        await Store.WriteAllBytesAsync("blobs/big", content, Token);
        await using var range = await Store.OpenReadRangeAsync("blobs/big", 1 << 20, 2 << 20, Token);
        await using (var file = new FileStream(Path.Combine(temp.Path, "blobs", "big"), FileMode.Open,
            FileAccess.Write, FileShare.ReadWrite))
        {
            file.Position = 2 << 20;
            file.Write("changed"u8);
        }

        using var read = new MemoryStream();
        await range.CopyToAsync(read, Token);
        Assert.Equal(2 << 20, read.Length);
        Assert.Equal("changed"u8.ToArray(), read.ToArray().AsSpan(1 << 20, 7).ToArray());
    }

    [Fact]
    public void FileUrlsAndPathsOpenTheSameDirectory()
    {
        Assert.Equal(temp.Path, StoreProviders.Builtin.Open("file://" + temp.Path).Root);
        Assert.Equal(temp.Path, StoreProviders.Builtin.Open(temp.Path).Root);
    }

    [Theory]
    [InlineData("s3x://bucket/prefix", "scheme is not supported")]
    [InlineData("", "no mirror given")]
    public void UnsupportedMirrorsAreRejectedWithOneLine(string mirror, string expected)
    {
        var e = Assert.Throws<DepotException>(() => StoreProviders.Builtin.Open(mirror));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private sealed class BrokenStream : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("broken");

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count,
            CancellationToken cancellationToken) =>
            throw new IOException("broken");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new IOException("broken");
    }
}
