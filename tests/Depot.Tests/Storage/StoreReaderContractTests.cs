using System.Text;
using Depot.Storage;

namespace Depot.Tests.Storage;

/// <summary>
/// The read contract (<see cref="IStoreReader"/>): every store runs it, the read-only HTTP store included. A test
/// class supplies a store holding given objects: written through the store when it can write, else put where the
/// store reads from (files a web server serves).
/// </summary>
public abstract partial class StoreReaderContractTests<TStore> : IAsyncDisposable
    where TStore : IStoreReader
{
    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A fresh store that holds exactly <paramref name="objects"/> (key → content).</summary>
    protected abstract Task<TStore> CreateSeededAsync(IReadOnlyDictionary<string, byte[]> objects);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    protected Task<TStore> SeededAsync(params (string Key, string Text)[] objects) =>
        CreateSeededAsync(objects.ToDictionary(o => o.Key, o => Encoding.UTF8.GetBytes(o.Text)));

    [Fact]
    public async Task ObjectsReadBackIdenticallyWithTheirSize()
    {
        var store = await SeededAsync(("v3/layout.json", "{\"signing\": \"gpg\"}"), ("blobs/sha256/ab/abc", "blob"));
        var layout = Encoding.UTF8.GetBytes("{\"signing\": \"gpg\"}");
        Assert.Equal(layout, await store.ReadAllBytesAsync("v3/layout.json", 1 << 20, Token));
        // Again: from a cached copy, for a store that keeps one (HTTP, for index and layout files).
        Assert.Equal(layout, await store.ReadAllBytesAsync("v3/layout.json", 1 << 20, Token));
        await using (var read = await store.OpenReadAsync("blobs/sha256/ab/abc", Token))
        {
            Assert.Equal("blob", await new StreamReader(read).ReadToEndAsync(Token));
        }

        var info = await store.GetInfoAsync("v3/layout.json", Token);
        Assert.NotNull(info);
        Assert.Equal(("v3/layout.json", layout.Length), (info.Key, info.Length));
    }

    [Fact]
    public async Task LargeObjectsStreamThrough()
    {
        var content = new byte[3 * 1024 * 1024 + 17];
        new Random(42).NextBytes(content);
        var store = await CreateSeededAsync(new Dictionary<string, byte[]> { ["blobs/sha256/ab/large"] = content });
        await using var read = await store.OpenReadAsync("blobs/sha256/ab/large", Token);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy, Token);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task MissingObjectsAreReportedPrecisely()
    {
        var store = await SeededAsync(("present/x", "1"));
        Assert.Null(await store.GetInfoAsync("nope/x", Token));
        Assert.False(await store.ExistsAsync("nope/x", Token));
        var e = await Assert.ThrowsAsync<StoreObjectNotFoundException>(() => store.OpenReadAsync("nope/x", Token));
        Assert.Contains("nope/x", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreObjectNotFoundException>(() => store.ReadAllBytesAsync("nope/x", 1 << 20, Token));
        Assert.Null(await store.TryReadAllBytesAsync("nope/x", Token));
    }

    [Fact]
    public async Task SmallReadsRefuseAnObjectOverTheirCap()
    {
        var store = await SeededAsync(("v3/layout.json", new string('x', 4096)));
        var e = await Assert.ThrowsAsync<InvalidContentException>(
            () => store.ReadAllBytesAsync("v3/layout.json", 1024, Token));
        Assert.Contains("v3/layout.json", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/absolute")]
    public async Task KeysCannotEscapeTheRootWhenRead(string key)
    {
        var store = await SeededAsync(("present/x", "1"));
        await Assert.ThrowsAsync<DepotException>(() => store.GetInfoAsync(key, Token));
        await Assert.ThrowsAnyAsync<DepotException>(() => store.OpenReadAsync(key, Token));
    }

    [Fact]
    public async Task DescribeNamesTheObject()
    {
        var store = await SeededAsync(("present/x", "1"));
        Assert.Contains("v3/layout.json", store.Describe("v3/layout.json"), StringComparison.Ordinal);
        Assert.StartsWith(store.Root, store.Describe("v3/layout.json"), StringComparison.Ordinal);
    }
}

/// <summary>
/// The list contract (<see cref="IStoreLister"/>), with the read contract: every store that can enumerate its keys.
/// </summary>
public abstract class StoreListerContractTests<TStore> : StoreReaderContractTests<TStore>
    where TStore : IStoreLister
{
    [Fact]
    public async Task ListingReturnsEveryObjectUnderAPrefixAtAnyDepth()
    {
        var store = await SeededAsync(("v3/manifests/spec/a/a-1-x.json", "a"), ("v3/manifests/spec/b/b-1-y.json", "b"),
            ("v3/manifests/index/i.json", "i"), ("v3x/other", "o"), ("blobs/sha256/aa/aa1", "blobs/sha256/aa/aa1"));

        Assert.Equal(["v3/manifests/spec/a/a-1-x.json", "v3/manifests/spec/b/b-1-y.json"],
            await KeysAsync(store, "v3/manifests/spec/"));
        Assert.Equal(["v3/manifests/index/i.json", "v3/manifests/spec/a/a-1-x.json", "v3/manifests/spec/b/b-1-y.json"],
            await KeysAsync(store, "v3/"));
        Assert.Equal(5, (await KeysAsync(store, "")).Count);
        Assert.Empty(await KeysAsync(store, "nothing/here/"));
        var listed = await store.ListAsync("blobs/", Token).ToListAsync(Token);
        Assert.Equal("blobs/sha256/aa/aa1".Length, Assert.Single(listed).Length);
    }

    [Fact]
    public async Task ListingKeysOnlyAgreesWithListing()
    {
        var store = await SeededAsync(
            ("build_cache/a.spec.json", "a"), ("build_cache/_pgp/k.pub", "k"), ("other", "o"));
        var keys = await store.ListKeysAsync("build_cache/", Token).ToListAsync(Token);
        keys.Sort(StringComparer.Ordinal);
        Assert.Equal(await KeysAsync(store, "build_cache/"), keys);
    }

    protected static async Task<List<string>> KeysAsync(TStore store, string prefix)
    {
        var keys = await store.ListAsync(prefix, Token).Select(o => o.Key).ToListAsync(Token);
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }
}
