using System.Security.Cryptography;
using System.Text;
using Depot.InstallTree;
using Depot.Layout;
using Depot.Operations;
using Depot.Storage;
using Depot.Tests.Server;

namespace Depot.Tests.Operations;

/// <summary>
/// A prune running while a push writes to the same directory mirror, many times with the two started together: the
/// push's blobs are younger than the grace period and its manifests newer than the prune's listing, so nothing it
/// wrote goes, while the planted (old) orphans do, and the index ends up naming every entry.
/// </summary>
public class PruneRaceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private const int Iterations = 12;
    private const int BaseEntries = 20;

    [Fact]
    public async Task APruneRacingAPushLosesNothing()
    {
        var db = await InstallDatabase.ReadAsync(TestData.Path("spack-1.2/install-tree"), cancellationToken: Token);
        var plan = PushSelection.Select(db, [], all: true);
        for (var i = 0; i < Iterations; i++)
        {
            using var mirror = new TempDir();
            SyntheticMirror.Write(mirror.Path, "1", BaseEntries);
            var store = new LocalDirectoryStore(mirror.Path);
            var orphans = await PlantedOrphans.PlantV3Async(store);
            orphans.UnionWith(PlantedOrphans.PlantTemporaries(mirror.Path));
            PlantedOrphans.Age(mirror.Path, PlantedOrphans.Files(mirror.Path), TimeSpan.FromDays(1));

            var delay = TimeSpan.FromMilliseconds(Random.Shared.Next(0, 60));
            var push = Task.Run(async () =>
            {
                await Task.Delay(i % 2 == 0 ? delay : TimeSpan.Zero, Token);
                return await PushOperation.RunAsync(Mirror.Of(store), db, plan, new PushOptions(), null, Token);
            }, Token);
            var prune = Task.Run(async () =>
            {
                await Task.Delay(i % 2 == 1 ? delay : TimeSpan.Zero, Token);
                return await PruneOperation.RunAsync(Mirror.Of(store), new PruneOptions(Apply: true), null, Token);
            }, Token);
            var (pushed, pruned) = (await push, await prune);

            var written = pushed.Outcomes.Count(o => o.Status == PushStatus.Pushed);
            Assert.Equal(5, written);
            Assert.DoesNotContain(pushed.Outcomes, o => o.Status == PushStatus.Failed);
            Assert.DoesNotContain(pruned.Items, item => item.Reason is PruneReason.Expired or PruneReason.Removed);
            var left = PlantedOrphans.Files(mirror.Path);
            Assert.Empty(left.Intersect(orphans));
            Assert.Equal(BaseEntries + written, await MirrorState.AssertWholeAsync(mirror.Path));
        }
    }

    [Fact]
    public async Task APushReusingAnOldOrphanBlobMidPruneIsReportedNotSilent()
    {
        // The race the grace period cannot close: the push found the blob present (so did not upload it), and its
        // manifest lands after the listing, just as the prune deletes that blob.
        using var mirror = new TempDir();
        SyntheticMirror.Write(mirror.Path, "5", 2);
        var inner = new LocalDirectoryStore(mirror.Path);
        var content = Encoding.UTF8.GetBytes("a tarball rebuilt byte for byte");
        var orphan = new BlobRecord(content.Length, MediaTypes.Tarball, "gzip", "sha256",
            Convert.ToHexStringLower(SHA256.HashData(content)));
        await inner.WriteAllBytesAsync(orphan.BlobKey, content, Token);
        PlantedOrphans.Age(mirror.Path, PlantedOrphans.Files(mirror.Path), TimeSpan.FromDays(1));
        var late = $"{BuildCacheV3.SpecManifestPrefix}late/late-1.0-{PlantedOrphans.NewHash()}"
            + BuildCacheV3.SpecManifestSuffix;
        var store = new PushingBeforeDelete(inner, async key =>
        {
            if (key == orphan.BlobKey)
            {
                await inner.WriteAllBytesAsync(late, new BuildCacheManifest([orphan]).ToJsonBytes(), Token);
            }
        });

        var result = await PruneOperation.RunAsync(Mirror.Of(store), new PruneOptions(Apply: true), null, Token);

        Assert.Equal(orphan.BlobKey, Assert.Single(result.Items).Keys.Single());
        var problem = Assert.Single(result.Problems);
        Assert.Equal(ErrorKind.Conflict, problem.Kind);
        Assert.Contains(late, problem.Message, StringComparison.Ordinal);
        Assert.EndsWith("which the prune removed; push this spec again", problem.Message, StringComparison.Ordinal);
    }

    /// <summary>A directory store that runs a push's step just before each delete.</summary>
    private sealed class PushingBeforeDelete(IObjectStore inner, Func<string, Task> beforeDelete) : IObjectStore
    {
        public string Root => inner.Root;

        public bool ConditionalWritesAreAtomic => inner.ConditionalWritesAreAtomic;

        public string Describe(string key) => inner.Describe(key);

        public IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
            inner.ListAsync(prefix, cancellationToken);

        public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
            inner.GetInfoAsync(key, cancellationToken);

        public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) =>
            inner.OpenReadAsync(key, cancellationToken);

        public Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(key, content, cancellationToken);

        public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
        {
            await beforeDelete(key);
            return await inner.DeleteAsync(key, cancellationToken);
        }
    }
}
