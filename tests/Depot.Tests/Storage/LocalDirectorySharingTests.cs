using System.Text;
using Depot.Posix;
using Depot.Storage;

namespace Depot.Tests.Storage;

/// <summary>
/// A local mirror as several writers share it, in one process: the index lock file exists only while held (a waiter
/// that locked a removed file starts again; one left by a killed writer is reused and removed), and what Depot makes
/// below the root takes the root's group bits. Between real accounts: <see cref="SharedMirrorTests"/>.
/// </summary>
public sealed class LocalDirectorySharingTests : IDisposable
{
    private readonly TempDir temp = new();
    private readonly string mirror;
    private readonly string lockFile;

    public LocalDirectorySharingTests()
    {
        mirror = temp.Combine("mirror");
        Directory.CreateDirectory(mirror);
        lockFile = Path.Combine(mirror, ".depot-tmp-write.lock");
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => temp.Dispose();

    private static MemoryStream Text(string s) => new(Encoding.UTF8.GetBytes(s));

    private string[] Left() =>
        [.. Directory.EnumerateFileSystemEntries(mirror, ".depot-tmp-*", SearchOption.AllDirectories)];

    [Fact]
    public async Task AConditionalWriteLeavesNoLockFileBehind()
    {
        var store = new LocalDirectoryStore(mirror);
        Assert.True(await store.WriteIfUnchangedAsync("index.json", Text("{}"), null, Token));
        var version = (await store.GetInfoAsync("index.json", Token))!.Version;
        Assert.True(await store.WriteIfUnchangedAsync("index.json", Text("{\"a\":1}"), version, Token));
        Assert.False(await store.WriteIfUnchangedAsync("index.json", Text("{\"b\":2}"), version, Token));

        Assert.Equal("{\"a\":1}", await File.ReadAllTextAsync(Path.Combine(mirror, "index.json"), Token));
        Assert.Empty(Left());
    }

    [Fact]
    public async Task ALockFileLeftByAKilledWriterIsReusedAndRemoved()
    {
        await File.WriteAllBytesAsync(lockFile, [], Token);

        Assert.True(await new LocalDirectoryStore(mirror).WriteIfUnchangedAsync("index.json", Text("{}"), null, Token));

        Assert.Empty(Left());
    }

    [Fact]
    public async Task AWriterWaitsForTheHolderThenLocksAFreshFileAndRemovesIt()
    {
        var held = await TransientLockFile.AcquireAsync(lockFile, () => { }, _ => { }, TimeSpan.FromSeconds(5), Token);
        var inode = FileStatus.Lstat(lockFile).Inode;
        // The test holds the fcntl lock itself, not the store's in-process gate: only the lock keeps the write waiting.
        var write = new LocalDirectoryStore(mirror).WriteIfUnchangedAsync("index.json", Text("{}"), null, Token);
        await Task.Delay(300, Token);
        Assert.False(write.IsCompleted);
        Assert.Equal(inode, FileStatus.Lstat(lockFile).Inode);

        held.Dispose(); // removes the file, then unlocks: the waiter holds a removed file and must start again
        Assert.True(await write);

        Assert.Empty(Left());
        Assert.Equal("{}", await File.ReadAllTextAsync(Path.Combine(mirror, "index.json"), Token));
    }

    [Fact]
    public async Task NewFoldersAndFilesTakeTheRootsGroupBitsAndSetGroupIdNeverItsStickyBit()
    {
        File.SetUnixFileMode(mirror, (UnixFileMode)Convert.ToInt32("3750", 8)); // setgid + sticky, group r-x
        var store = new LocalDirectoryStore(mirror);
        await store.WriteAsync("a/b/c.json", Text("{}"), Token);
        await using (var staged = await store.CreateStagedAsync(Token))
        {
            await staged.Content.WriteAsync("blob"u8.ToArray(), Token);
            await staged.CommitAsync("a/d.bin", Token);
        }

        Assert.True(await store.WriteIfUnchangedAsync("a/b/e.json", Text("{}"), null, Token));

        Assert.Equal("2750", Mode("a"));
        Assert.Equal("2750", Mode("a/b"));
        Assert.Equal("640", Mode("a/b/c.json"));
        Assert.Equal("640", Mode("a/d.bin"));
        Assert.Equal("640", Mode("a/b/e.json"));
        Assert.Empty(Left());
    }

    private string Mode(string key) => Convert.ToString(FileStatus.Lstat(Path.Combine(mirror, key)).Mode, 8);
}
