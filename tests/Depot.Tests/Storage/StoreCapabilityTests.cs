using System.Reflection;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Operations;
using Depot.Storage;
using Depot.Storage.Azure;
using Depot.Storage.Gcs;
using Depot.Storage.Oci;
using Depot.Storage.S3;

namespace Depot.Tests.Storage;

/// <summary>
/// The storage seam by capability: a read-only store is one by its type, so the compiler keeps it from code that lists
/// or writes; where a store chosen at run time meets a writer, it is refused before anything is written.
/// </summary>
public sealed class StoreCapabilityTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void TheHttpStoreCanOnlyBeRead()
    {
        Assert.True(typeof(IStoreReader).IsAssignableFrom(typeof(HttpStore)));
        Assert.False(typeof(IStoreLister).IsAssignableFrom(typeof(HttpStore)));
        Assert.False(typeof(IStoreWriter).IsAssignableFrom(typeof(HttpStore)));
    }

    [Theory]
    [InlineData(typeof(LocalDirectoryStore))]
    [InlineData(typeof(S3Store))]
    [InlineData(typeof(GcsStore))]
    [InlineData(typeof(AzureBlobStore))]
    [InlineData(typeof(OciStore))]
    public void EveryOtherStoreReadsListsAndWrites(Type store) =>
        Assert.True(typeof(IObjectStore).IsAssignableFrom(store));

    [Fact]
    public void NoCapabilityIsAFlag()
    {
        var members = new[] { typeof(IStoreReader), typeof(IStoreLister), typeof(IStoreWriter), typeof(IObjectStore) }
            .SelectMany(t => t.GetMembers()).Select(m => m.Name);
        Assert.DoesNotContain("CanList", members);
        Assert.Empty(typeof(IObjectStore).GetMembers(
            BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly));
    }

    [Fact]
    public async Task OperationsThatWriteRefuseAReadOnlyMirrorBeforeAnyRequest()
    {
        // A mirror's store is a reader; writing needs Mirror.Writable, which a plain HTTP mirror cannot give. Nothing
        // listens on port 9: a connection error would mean the operation sent a request before refusing.
        Assert.Equal(typeof(IStoreReader), typeof(Mirror).GetProperty(nameof(Mirror.Store))!.PropertyType);
        Assert.Equal(typeof(IObjectStore), typeof(Mirror).GetProperty(nameof(Mirror.Writable))!.PropertyType);
        Assert.Equal(typeof(IStoreReader), typeof(BuildCache).GetMethod(nameof(BuildCache.DetectAsync))!
            .GetParameters()[0].ParameterType);
        using var store = new HttpStore("http://127.0.0.1:9/mirror");
        var mirror = Mirror.Of(store);
        var token = TestContext.Current.CancellationToken;
        await Assert.ThrowsAsync<ReadOnlyStoreException>(() => IndexOperation.RunAsync(mirror, new IndexOptions(), null,
            token));
        using var home = new TempDir();
        await Assert.ThrowsAsync<ReadOnlyStoreException>(() => KeyOperations.PublishAsync(
            new Depot.Configuration.DepotHome(home.Path), mirror, [], token));
        // Push and copy into an http(s) mirror first ask whether a Depot server serves it (DepotServerClientTests).
    }

    [Fact]
    public void AReadOnlyStoreIsRefusedByNameWhereAWriterNeedsIt()
    {
        using var store = new HttpStore("http://127.0.0.1:9/mirror");
        IStoreReader reader = store;
        var e = Assert.Throws<ReadOnlyStoreException>(() => reader.RequireWritable());
        Assert.Equal("http://127.0.0.1:9/mirror: this mirror is read-only (plain HTTP); write to the storage behind "
            + "the web server (a directory, s3://, gs://, azure://, oci://)", e.Message);

        using var temp = new TempDir();
        IStoreReader local = new LocalDirectoryStore(temp.Path);
        Assert.Same(local, local.RequireWritable());
    }

    [Fact]
    public async Task ALayoutOverAReadOnlyStoreRefusesToWriteBeforeAnyRequest()
    {
        // Port 9 (discard) answers nothing: a request would fail as unreachable, not as read-only.
        using var store = new HttpStore("http://127.0.0.1:9/mirror");
        foreach (var layout in new IBuildCacheLayout[] { new BuildCacheV3(store), new BuildCacheV2(store) })
        {
            await Assert.ThrowsAsync<ReadOnlyStoreException>(() => layout.PublishKeysAsync([], Token));
        }

        Assert.Equal(0, store.Requests);
    }
}
