using System.Text;
using Depot.Storage;

namespace Depot.Tests.Storage;

/// <summary>
/// Issue 14, class 5: in a group-writable cache any member can plant symbolic links, so no read or write of a local
/// mirror may follow one below its root, and the refusal names the link. Each test plants a link to a folder or file
/// outside the mirror and checks both the one-line refusal and that nothing outside was written, created or read.
/// </summary>
public sealed class LocalDirectoryLinkTests : IDisposable
{
    private const string Refused = ": is a symbolic link; Depot does not follow links inside a mirror";
    private readonly TempDir temp = new();
    private readonly string mirror;
    private readonly string outside;
    private readonly LocalDirectoryStore store;

    public LocalDirectoryLinkTests()
    {
        mirror = temp.Combine("mirror");
        outside = temp.Combine("outside");
        Directory.CreateDirectory(mirror);
        Directory.CreateDirectory(outside);
        store = new LocalDirectoryStore(mirror);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => temp.Dispose();

    private static MemoryStream Text(string s) => new(Encoding.UTF8.GetBytes(s));

    private string PlantFolderLink(string key)
    {
        var link = Path.Combine(mirror, key);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, outside);
        return link;
    }

    private void AssertOutsideUntouched(params string[] expected) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal),
            Directory.EnumerateFileSystemEntries(outside).Select(Path.GetFileName).Order(StringComparer.Ordinal));

    [Fact]
    public async Task WritesThroughALinkedFolderAreRefusedNamingTheLink()
    {
        var link = PlantFolderLink("v3/manifests/index");
        var e = await Assert.ThrowsAsync<DepotException>(() =>
            store.WriteAsync("v3/manifests/index/index.manifest.json", Text("{}"), Token));
        Assert.Equal(link + Refused, e.Message);
        e = await Assert.ThrowsAsync<DepotException>(() =>
            store.WriteIfUnchangedAsync("v3/manifests/index/index.manifest.json", Text("{}"), null, Token));
        Assert.Equal(link + Refused, e.Message);
        await using (var staged = await store.CreateStagedAsync(Token))
        {
            await staged.Content.WriteAsync("blob"u8.ToArray(), Token);
            e = await Assert.ThrowsAsync<DepotException>(() => staged.CommitAsync("v3/manifests/index/blob", Token));
            Assert.Equal(link + Refused, e.Message);
        }

        AssertOutsideUntouched();
        Assert.DoesNotContain(Directory.EnumerateFiles(mirror, "*", SearchOption.AllDirectories),
            f => Path.GetFileName(f).StartsWith(".depot-tmp-", StringComparison.Ordinal)
                && !f.EndsWith("write.lock", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DepotIndexRefusesAnIndexFolderLinkedOutsideTheMirror()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        var index = Path.Combine(copy.Path, "v3/manifests/index");
        Directory.Delete(index, recursive: true);
        File.CreateSymbolicLink(index, outside);
        var (code, _, err) = await Depot.Tests.Cli.CliRun.RunAsync(temp.Combine("home"), "index", copy.Path);
        Assert.Equal(Depot.Cli.ExitCodes.InvalidContent, code);
        Assert.Equal($"depot: error: {index}{Refused}", err.TrimEnd('\n'));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task AFolderLinkHigherUpIsRefusedToo()
    {
        var link = PlantFolderLink("v3");
        var e = await Assert.ThrowsAsync<DepotException>(() =>
            store.WriteAsync("v3/manifests/spec/a/a.spec.manifest.json", Text("{}"), Token));
        Assert.Equal(link + Refused, e.Message);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task APlantedLockFileLinkCreatesNothingAtItsTarget()
    {
        var target = Path.Combine(outside, "created-by-depot");
        var lockFile = Path.Combine(mirror, ".depot-tmp-write.lock");
        File.CreateSymbolicLink(lockFile, target);
        var e = await Assert.ThrowsAsync<DepotException>(() => store.WriteIfUnchangedAsync("index.json", Text("{}"),
            null, Token));
        Assert.Equal(lockFile + Refused, e.Message);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(Path.Combine(mirror, "index.json")));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task APlantedLinkAtTheKeyIsNeitherReadNorWrittenThrough()
    {
        var secret = Path.Combine(outside, "shadow");
        File.WriteAllText(secret, "root:secret");
        const string key = "v3/manifests/spec/x/x.spec.manifest.json";
        var link = Path.Combine(mirror, key);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, secret);

        foreach (var attempt in new Func<Task>[]
                 {
                     () => store.ReadAllBytesAsync(key, cancellationToken: Token),
                     () => store.OpenReadAsync(key, Token),
                     () => store.GetInfoAsync(key, Token),
                     () => store.DeleteAsync(key, Token),
                     () => store.WriteAsync(key, Text("overwritten"), Token),
                 })
        {
            var e = await Assert.ThrowsAsync<DepotException>(attempt);
            Assert.Equal(link + Refused, e.Message);
        }

        Assert.Equal("root:secret", File.ReadAllText(secret));
        Assert.NotNull(new FileInfo(link).LinkTarget);
    }

    [Fact]
    public async Task ReadsAndListingsDoNotGoThroughALinkedFolder()
    {
        File.WriteAllText(Path.Combine(outside, "a.spec.manifest.json"), "{}");
        var link = PlantFolderLink("v3/manifests/spec");
        await store.WriteAllTextAsync("v3/layout.json", "{}", Token);

        var e = await Assert.ThrowsAsync<DepotException>(() =>
            store.ReadAllBytesAsync("v3/manifests/spec/a.spec.manifest.json", cancellationToken: Token));
        Assert.Equal(link + Refused, e.Message);
        e = await Assert.ThrowsAsync<DepotException>(() => store.OpenReadAsync("v3/manifests/spec/a.spec.manifest.json",
            Token));
        Assert.Equal(link + Refused, e.Message);
        e = await Assert.ThrowsAsync<DepotException>(() => store.GetInfoAsync("v3/manifests/spec/a.spec.manifest.json",
            Token));
        Assert.Equal(link + Refused, e.Message);
        e = await Assert.ThrowsAsync<DepotException>(() => store.ListKeysAsync("v3/manifests/spec/", Token)
            .ToListAsync(Token).AsTask());
        Assert.Equal(link + Refused, e.Message);

        // Listing from above does not walk into the linked folder.
        Assert.Equal(["v3/layout.json"], await store.ListKeysAsync("", Token).ToListAsync(Token));
        Assert.Equal(["v3/layout.json"], await store.ListKeysAsync("v3/", Token).ToListAsync(Token));
    }

    [Fact]
    public async Task DeletingThroughALinkedFolderIsRefused()
    {
        File.WriteAllText(Path.Combine(outside, "victim"), "keep me");
        var link = PlantFolderLink("build_cache");
        var e = await Assert.ThrowsAsync<DepotException>(() => store.DeleteAsync("build_cache/victim", Token));
        Assert.Equal(link + Refused, e.Message);
        AssertOutsideUntouched("victim");
    }

    [Fact]
    public async Task AFifoInTheMirrorIsRefusedInsteadOfBlockingTheReader()
    {
        var fifo = Path.Combine(mirror, "index.json");
        var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])!;
        await mkfifo.WaitForExitAsync(Token);
        var e = await Assert.ThrowsAsync<DepotException>(() => store.ReadAllBytesAsync("index.json",
            cancellationToken: Token));
        Assert.Equal(fifo + ": is not a regular file; Depot reads only regular files in a mirror", e.Message);
    }

    [Fact]
    public async Task TheMirrorRootItselfMayBeALink()
    {
        var linkedRoot = temp.Combine("linked-root");
        File.CreateSymbolicLink(linkedRoot, mirror);
        var linked = new LocalDirectoryStore(linkedRoot);
        await linked.WriteAllTextAsync("v3/manifests/index/index.manifest.json", "{}", Token);
        Assert.True(await linked.WriteIfUnchangedAsync("build_cache/index.json", Text("[]"), null, Token));
        await using (var staged = await linked.CreateStagedAsync(Token))
        {
            await staged.Content.WriteAsync("blob"u8.ToArray(), Token);
            await staged.CommitAsync("blobs/sha256/ab/abc", Token);
        }

        Assert.Equal("{}",
            Encoding.UTF8.GetString(await linked.ReadAllBytesAsync("v3/manifests/index/index.manifest.json",
                cancellationToken: Token)));
        Assert.Equal("blob", File.ReadAllText(Path.Combine(mirror, "blobs/sha256/ab/abc")));
        Assert.Equal(3, (await linked.ListKeysAsync("", Token).ToListAsync(Token)).Count);
    }

    [Fact]
    public void AFileOpenedThroughALinkSwappedInAfterTheChecksIsRefused()
    {
        // The race the checks before an open cannot close: the path resolved to a file outside the mirror when opened.
        var secret = Path.Combine(outside, "secret");
        File.WriteAllText(secret, "x");
        var link = PlantFolderLink("v3");
        using var handle = File.OpenHandle(Path.Combine(mirror, "v3", "secret"));
        var e = Assert.Throws<DepotException>(() => MirrorLinks.CheckOpened(handle, mirror + "/v3/secret", mirror,
            "v3/secret"));
        Assert.Equal(link + Refused, e.Message);

        File.Delete(link);
        Directory.CreateDirectory(link);
        File.WriteAllText(Path.Combine(link, "secret"), "inside");
        e = Assert.Throws<DepotException>(() => MirrorLinks.CheckOpened(handle, mirror + "/v3/secret", mirror,
            "v3/secret"));
        Assert.Equal($"{mirror}/v3/secret: opened {secret}, which is not inside the mirror; Depot does not follow "
            + "links inside a mirror", e.Message);
    }
}
