using System.Text;
using Depot.Storage;

namespace Depot.Tests.Storage;

/// <summary>
/// The write contract (<see cref="IStoreWriter"/>), with the list and read contracts: every full store
/// (<see cref="IObjectStore"/>) derives from this and supplies a fresh, empty store; the read and list tests see
/// objects it wrote itself.
/// </summary>
public abstract class StoreContractTests : StoreListerContractTests<IObjectStore>
{
    private IObjectStore? store;

    protected IObjectStore Store => store ??= CreateStore();

    /// <summary>Creates a new, empty store for one test.</summary>
    protected abstract IObjectStore CreateStore();

    protected sealed override async Task<IObjectStore> CreateSeededAsync(IReadOnlyDictionary<string, byte[]> objects)
    {
        foreach (var (key, content) in objects)
        {
            await Store.WriteAllBytesAsync(key, content, Token);
        }

        return Store;
    }

    [Fact]
    public async Task WrittenObjectsReadBackIdentically()
    {
        var content = Encoding.UTF8.GetBytes("{\"signing\": \"gpg\"}");
        await Store.WriteAllBytesAsync("v3/layout.json", content, Token);
        Assert.Equal(content, await Store.ReadAllBytesAsync("v3/layout.json", cancellationToken: Token));
        var info = await Store.GetInfoAsync("v3/layout.json", Token);
        Assert.NotNull(info);
        Assert.Equal(content.Length, info.Length);
        Assert.Equal("v3/layout.json", info.Key);
    }

    [Fact]
    public async Task StagedObjectsAppearOnlyWhenCommitted()
    {
        var content = new byte[1024 * 1024 + 3];
        new Random(7).NextBytes(content);
        await using (var staged = await Store.CreateStagedAsync(Token))
        {
            await staged.Content.WriteAsync(content, Token);
            Assert.Empty(await Store.ListAsync("", Token).ToListAsync(Token)); // nothing visible while writing
            await staged.CommitAsync("blobs/sha256/cd/staged", Token);
        }

        Assert.Equal(content, await Store.ReadAllBytesAsync("blobs/sha256/cd/staged", cancellationToken: Token));
        await using (var abandoned = await Store.CreateStagedAsync(Token))
        {
            await abandoned.Content.WriteAsync(content.AsMemory(0, 100), Token);
        }

        Assert.Equal(["blobs/sha256/cd/staged"],
            (await Store.ListAsync("", Token).ToListAsync(Token)).Select(o => o.Key));
    }

    private static MemoryStream Text(string s) => new(Encoding.UTF8.GetBytes(s));

    [Fact]
    public async Task AStaleWriterIsRefusedAndTheNewerObjectKept()
    {
        // Every store compares before it writes, so a writer whose version is already stale is refused, whether or
        // not the service itself enforces the condition.
        Assert.True(await Store.WriteIfUnchangedAsync("i/index.json", Text("first"), null, Token));
        var version = (await Store.GetInfoAsync("i/index.json", Token))!.Version;
        Assert.NotNull(version);
        Assert.False(await Store.WriteIfUnchangedAsync("i/index.json", Text("late creator"), null, Token));
        Assert.True(await Store.WriteIfUnchangedAsync("i/index.json", Text("second"), version, Token));
        Assert.False(await Store.WriteIfUnchangedAsync("i/index.json", Text("stale writer"), version, Token));

        Assert.Equal("second",
            Encoding.UTF8.GetString(await Store.ReadAllBytesAsync("i/index.json", cancellationToken: Token)));
        Assert.NotEqual(version, (await Store.GetInfoAsync("i/index.json", Token))!.Version);
    }

    [Fact]
    public async Task WritersRacingWithOneVersionLetExactlyOneWinOnlyWhereConditionsAreAtomic()
    {
        Assert.True(await Store.WriteIfUnchangedAsync("r/index.json", Text("base"), null, Token));
        var version = (await Store.GetInfoAsync("r/index.json", Token))!.Version;
        const int writers = 8;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racing = Enumerable.Range(0, writers).Select(async i =>
        {
            await start.Task;
            return await Store.WriteIfUnchangedAsync("r/index.json", Text($"writer {i} of the race"), version, Token);
        }).ToList();
        start.SetResult();
        var won = await Task.WhenAll(racing);

        var final = Encoding.UTF8.GetString(await Store.ReadAllBytesAsync("r/index.json", cancellationToken: Token));
        var winners = Enumerable.Range(0, writers).Where(i => won[i]).ToList();
        if (((IStoreWriter)Store).ConditionalWritesAreAtomic)
        {
            Assert.Equal($"writer {Assert.Single(winners)} of the race", final);
        }
        else
        {
            // The documented weaker guarantee: at least one wins, several may, and the object is one winner's whole
            // content (never a mix); callers verify after writing (IndexOperation).
            Assert.NotEmpty(winners);
            Assert.True(winners.Any(i => final == $"writer {i} of the race"),
                $"final object '{final}' is not the whole content of a winner ({string.Join(", ", winners)})");
        }
    }

    [Fact]
    public async Task WritingAgainReplacesTheObject()
    {
        await Store.WriteAllTextAsync("a/b.json", "old and longer", Token);
        await Store.WriteAllTextAsync("a/b.json", "new", Token);
        Assert.Equal("new",
            Encoding.UTF8.GetString(await Store.ReadAllBytesAsync("a/b.json", cancellationToken: Token)));
    }

    [Fact]
    public async Task DeleteRemovesAndReportsWhetherThereWasAnObject()
    {
        await Store.WriteAllTextAsync("x/y", "1", Token);
        Assert.True(await Store.DeleteAsync("x/y", Token));
        Assert.False(await Store.DeleteAsync("x/y", Token));
        Assert.Null(await Store.GetInfoAsync("x/y", Token));
        Assert.Empty(await KeysAsync("x/"));
    }

    [Fact]
    public async Task AFailedWriteLeavesNoObjectAndKeepsThePreviousOne()
    {
        await Store.WriteAllTextAsync("index/index.json", "previous", Token);
        await Assert.ThrowsAsync<IOException>(() => Store.WriteAsync("index/index.json", new FailingStream(100_000),
            Token));
        await Assert.ThrowsAsync<IOException>(() => Store.WriteAsync("index/new.json", new FailingStream(100_000),
            Token));

        Assert.Equal("previous",
            Encoding.UTF8.GetString(await Store.ReadAllBytesAsync("index/index.json", cancellationToken: Token)));
        Assert.Null(await Store.GetInfoAsync("index/new.json", Token));
        Assert.Equal(["index/index.json"], await KeysAsync("index/"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    public async Task KeysCannotEscapeTheRoot(string key)
    {
        await Assert.ThrowsAsync<DepotException>(() => Store.WriteAllTextAsync(key, "x", Token));
    }

    private Task<List<string>> KeysAsync(string prefix) => KeysAsync(Store, prefix);

    /// <summary>Yields some bytes, then fails: a writer killed mid-upload.</summary>
    private sealed class FailingStream(int failAfter) : Stream
    {
        private int position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (position >= failAfter)
            {
                throw new IOException("simulated failure mid-write");
            }

            var n = Math.Min(count, failAfter - position);
            buffer.AsSpan(offset, n).Fill((byte)'x');
            position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
