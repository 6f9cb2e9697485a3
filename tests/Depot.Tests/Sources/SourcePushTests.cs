using Depot.Operations;
using Depot.Sources;
using Depot.Storage;
using Depot.Storage.Oci;
using Depot.Storage.S3;
using Depot.Tests.Storage;

namespace Depot.Tests.Sources;

/// <summary>
/// <c>depot push --sources</c> and <c>depot copy --sources</c> at the engine: a fake Spack download cache into a
/// directory and into S3 (s3rver), byte for byte, each archive checked against its name on the way; what the mirror
/// holds is skipped; a copy between the two stores; an archive whose bytes are not its name is never written.
/// </summary>
public sealed class SourcePushTests(S3rver s3) : IClassFixture<S3rver>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private S3Store NewBucketPrefix() => new(S3rver.Bucket, "src-" + Guid.NewGuid().ToString("N")[..8],
        new S3StoreOptions(s3.Endpoint, "S3RVER", "S3RVER"));

    private static Mirror Writable(IStoreReader store) => Mirror.Of(store, purpose: MirrorPurpose.Write);

    private static async Task AssertHoldsAsync(IStoreReader store, FakeSpackSources sources)
    {
        foreach (var key in sources.Keys)
        {
            Assert.Equal(File.ReadAllBytes(sources.PathOf(key)), await store.ReadAllBytesAsync(key,
                cancellationToken: Token));
        }
    }

    public static TheoryData<string> Stores => ["directory", "s3"];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task TheDownloadCacheIsPushedByteForByteAndAPushAgainSkipsIt(string kind)
    {
        using var sources = new FakeSpackSources();
        using var dir = new TempDir();
        using var s3Store = kind == "s3" ? NewBucketPrefix() : null;
        IObjectStore store = s3Store ?? (IObjectStore)new LocalDirectoryStore(dir.Path);
        var progress = new List<SourceTransferProgress>();

        var pushed = await SourcePushOperation.RunAsync(Writable(store), sources.Cache,
            new SourceTransferOptions(Parallelism: 3), new SyncProgress<SourceTransferProgress>(progress.Add), Token);

        Assert.False(pushed.AnyFailed);
        Assert.Equal(sources.Keys.Order(StringComparer.Ordinal), pushed.Outcomes.Select(o => o.Key));
        Assert.All(pushed.Outcomes, o => Assert.Equal(SourceTransferStatus.Transferred, o.Status));
        Assert.Equal(sources.Keys.Sum(k => new FileInfo(sources.PathOf(k)).Length), pushed.BytesTransferred);
        await AssertHoldsAsync(store, sources);
        // The per-package links of the cache are neither pushed nor followed: only _source-cache/ is.
        var keys = await store.ListKeysAsync("", Token).ToListAsync(Token);
        Assert.All(keys, k => Assert.StartsWith(SourceMirror.Prefix, k, StringComparison.Ordinal));
        Assert.Equal(3, progress.Count(p => p.Outcome is not null));
        Assert.Equal((3, 3), (progress[^1].Done, progress[^1].Total));
        Assert.Equal(pushed.BytesTransferred, progress.Max(p => p.BytesDone));

        var again = await SourcePushOperation.RunAsync(Writable(store), sources.Cache, new SourceTransferOptions(),
            null, Token);
        Assert.All(again.Outcomes, o => Assert.Equal(SourceTransferStatus.SkippedExists, o.Status));
        Assert.Equal(0, again.BytesTransferred);

        var forced = await SourcePushOperation.RunAsync(Writable(store), sources.Cache,
            new SourceTransferOptions(Force: true), null, Token);
        Assert.Equal(3, forced.Count(SourceTransferStatus.Transferred));
    }

    [Fact]
    public async Task AnArchiveWhoseBytesAreNotItsNameIsNotWrittenAndTheRestArePushed()
    {
        using var sources = new FakeSpackSources();
        var (badKey, bytes, _) = sources.Archives[0];
        var tampered = bytes.ToArray();
        tampered[^5] ^= 0x40;
        sources.Write(badKey, tampered);
        sources.Write("_source-cache/archive/zz/not-a-digest.tar.gz", [1, 2, 3]);
        using var dir = new TempDir();
        var store = new LocalDirectoryStore(dir.Path);

        var pushed = await SourcePushOperation.RunAsync(Writable(store), sources.Cache, new SourceTransferOptions(),
            null, Token);

        var failed = Assert.Single(pushed.Outcomes, o => o.Status == SourceTransferStatus.Failed);
        Assert.Equal(badKey, failed.Key);
        Assert.Equal(ErrorKind.InvalidContent, failed.Kind);
        Assert.StartsWith($"{sources.PathOf(badKey)}: checksum mismatch: the name says sha256 ", failed.Reason,
            StringComparison.Ordinal);
        var skipped = Assert.Single(pushed.Outcomes, o => o.Status == SourceTransferStatus.SkippedMalformed);
        Assert.Equal("_source-cache/archive/zz/not-a-digest.tar.gz", skipped.Key);
        Assert.Equal(2, pushed.Count(SourceTransferStatus.Transferred));
        Assert.Null(await store.GetInfoAsync(badKey, Token));
        Assert.Null(await store.GetInfoAsync(skipped.Key, Token));
        Assert.Empty(Directory.EnumerateFiles(dir.Path, ".depot-tmp-*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ASourceMirrorIsCopiedFromADirectoryToS3AndBackAndStillVerifies()
    {
        using var sources = new FakeSpackSources();
        using var first = new TempDir();
        var directory = new LocalDirectoryStore(first.Path);
        await SourcePushOperation.RunAsync(Writable(directory), sources.Cache, new SourceTransferOptions(), null,
            Token);
        using var bucket = NewBucketPrefix();

        var there = await SourceCopyOperation.RunAsync(Mirror.Of(directory), Writable(bucket),
            new SourceTransferOptions(Parallelism: 2), null, Token);
        Assert.Equal(3, there.Count(SourceTransferStatus.Transferred));
        await AssertHoldsAsync(bucket, sources);

        using var second = new TempDir();
        var back = new LocalDirectoryStore(second.Path);
        var returned = await SourceCopyOperation.RunAsync(Mirror.Of(bucket), Writable(back),
            new SourceTransferOptions(), null, Token);
        Assert.Equal(3, returned.Count(SourceTransferStatus.Transferred));
        await AssertHoldsAsync(back, sources);
        var verified = await VerifyOperation.RunAsync(Mirror.Of(back), new VerifyOptions([]), null, Token);
        Assert.True(verified.Ok);
        Assert.False(verified.BuildCacheChecked);
        Assert.Equal((2, 2, 1), (verified.Sources!.Checked, verified.Sources.Good, verified.Sources.NotCheckable));

        // Copying again finds everything there.
        var again = await SourceCopyOperation.RunAsync(Mirror.Of(bucket), Writable(back), new SourceTransferOptions(),
            null, Token);
        Assert.Equal(3, again.Count(SourceTransferStatus.SkippedExists));
    }

    [Fact]
    public async Task AMirrorWithoutSourcesOrThatCannotBeListedIsRefusedInOneLine()
    {
        using var empty = new TempDir();
        using var target = new TempDir();
        var none = await Assert.ThrowsAsync<DepotException>(() => SourceCopyOperation.RunAsync(
            Mirror.Of(new LocalDirectoryStore(empty.Path)), Writable(new LocalDirectoryStore(target.Path)),
            new SourceTransferOptions(), null, Token));
        Assert.Equal(ErrorKind.NotFound, none.Kind);
        Assert.Equal($"{empty.Path}: no source mirror here (nothing under _source-cache/)", none.Message);

        using var http = new HttpStore("http://127.0.0.1:9/mirror/");
        var unlisted = await Assert.ThrowsAsync<DepotException>(() => SourceCopyOperation.RunAsync(Mirror.Of(http),
            Writable(new LocalDirectoryStore(target.Path)), new SourceTransferOptions(), null, Token));
        Assert.Equal(ErrorKind.Unsupported, unlisted.Kind);

        using var sources = new FakeSpackSources();
        await Assert.ThrowsAsync<ReadOnlyStoreException>(() => SourcePushOperation.RunAsync(Writable(http),
            sources.Cache, new SourceTransferOptions(), null, Token));

        // Spack fetches no sources from a registry: refused before any request.
        using var registry = new OciStore(OciReference.Parse("oci://127.0.0.1:9/sources"));
        var oci = await Assert.ThrowsAsync<DepotException>(() => SourcePushOperation.RunAsync(Writable(registry),
            sources.Cache, new SourceTransferOptions(), null, Token));
        Assert.Equal(ErrorKind.Unsupported, oci.Kind);
        Assert.Contains("Spack fetches no sources from an OCI registry", oci.Message, StringComparison.Ordinal);
    }
}

/// <summary>Reports on the caller's thread, in order.</summary>
internal sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
{
    private readonly Lock gate = new();

    public void Report(T value)
    {
        lock (gate)
        {
            handler(value);
        }
    }
}
