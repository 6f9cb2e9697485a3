using System.Collections.Concurrent;
using System.Security.Cryptography;
using Depot.Configuration;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// Operations that read, cancelled while a store request is under way (<see cref="CancellingStore"/>): each throws
/// <see cref="OperationCanceledException"/>, changes nothing on the mirror, and leaves no half-made local state — no
/// index summary that a later list would trust, no half-installed prefix and no database record.
/// </summary>
public class CancelledReadTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false, StoreCall.Read, 1)]
    [InlineData(false, StoreCall.Read, 2)]
    [InlineData(true, StoreCall.List, 1)]
    [InlineData(true, StoreCall.Read, 3)]
    public async Task ListCancelledMidWayThrowsAndTheNextListIsComplete(bool rescan, StoreCall call, int nth)
    {
        using var home = new TempDir();
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var before = Snapshot(mirror.Path);
        var cache = IndexCache.For(new DepotHome(home.Path));
        var store = new CancellingStore(new LocalDirectoryStore(mirror.Path), call, nth);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ListOperation.RunAsync(Mirror.Of(store),
            new ListOptions([], Rescan: rescan, Cache: cache), null, store.Source.Token));

        Assert.True(store.Fired, $"list made {store.Calls} calls of the kind, fewer than {nth}");
        Assert.Equal(before, Snapshot(mirror.Path));
        var listed = await ListOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)),
            new ListOptions([], Rescan: rescan, Cache: cache), null, Token);
        Assert.Equal(5, listed.Rows.Count);
        Assert.Empty(listed.Problems);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(9)]
    public async Task VerifyCancelledAtTheNthReadThrowsAndChangesNothing(int nth)
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var before = Snapshot(mirror.Path);
        var store = new CancellingStore(new LocalDirectoryStore(mirror.Path), StoreCall.Read, nth);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => VerifyOperation.RunAsync(
            Mirror.Of(store, TrustPolicy.None(mirror.Path)), new VerifyOptions([], Parallelism: 2), null,
            store.Source.Token));

        Assert.True(store.Fired, $"verify made {store.Calls} reads, fewer than {nth}");
        Assert.Equal(before, Snapshot(mirror.Path));
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(false, 9)]
    [InlineData(false, 12)]
    [InlineData(true, 2)]
    [InlineData(true, 9)]
    [InlineData(true, 12)]
    public async Task InstallCancelledAtTheNthReadThrowsAndLeavesNoPrefixAndNoRecord(bool spackTree, int nth)
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        using var temp = new TempDir();
        var root = Path.Combine(temp.Path, "tree");
        InstallTarget target = spackTree ? new SpackTreeTarget(root) : new PlainRootTarget(root);
        var store = new CancellingStore(new LocalDirectoryStore(mirror.Path), StoreCall.Read, nth);
        var progress = new Finished();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => InstallOperation.RunAsync(
            [Mirror.Of(store, TrustPolicy.None(mirror.Path))], [SpecQuery.Parse("greet")],
            new InstallOptions(target, Parallelism: 2), progress, store.Source.Token));

        Assert.True(store.Fired, $"install made {store.Calls} reads, fewer than {nth}");
        if (nth == 12)
        {
            // The last read (the third package's tarball, fetched once one of two slots is free): packages were moved
            // into place before the cancel, and the rollback took them out.
            Assert.NotEmpty(progress.Installed);
        }

        // Nothing but Spack's lock files: no prefix, no staging folder, no alias, no database.
        var left = Directory.Exists(root)
            ? Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToList()
            : [];
        Assert.All(left, f => Assert.Contains(f, new[] { ".spack-db", ".spack-db/prefix_lock", ".spack-db/lock" }));

        var again = await InstallOperation.RunAsync([Mirror.Of(new LocalDirectoryStore(mirror.Path),
            TrustPolicy.None(mirror.Path))], [SpecQuery.Parse("greet")], new InstallOptions(target), null, Token);
        Assert.False(again.AnyFailed, string.Join("; ", again.Outcomes.Select(o => o.Reason)));
        Assert.All(again.Outcomes, o => Assert.Contains(o.Status, new[] { InstallStatus.Installed,
            InstallStatus.External }));
        Assert.Equal(InstallStatus.Installed, again.Outcomes.Single(o => o.Name == "greet").Status);
    }

    // Every file of a folder with its sha256, to show a read changed nothing.
    private static string[] Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => Path.GetRelativePath(folder, f) + " " + Convert.ToHexString(SHA256.HashData(
                File.ReadAllBytes(f)))).ToArray();

    // Synchronous progress: packages reported installed, in the order they finished.
    private sealed class Finished : IProgress<InstallProgress>
    {
        public ConcurrentQueue<string> Installed { get; } = new();

        public void Report(InstallProgress value)
        {
            if (value.Finished is { Status: InstallStatus.Installed } done)
            {
                Installed.Enqueue(done.Name);
            }
        }
    }
}
