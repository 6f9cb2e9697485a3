using Depot.Operations;
using Depot.Specs;
using Depot.Storage;
using Depot.Tests.Server;

namespace Depot.Tests.Operations;

public class RmOperationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Task<PruneResult> RmAsync(string root, RmOptions options) =>
        RmOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(root)), options, null, Token);

    private static RmOptions Named(params string[] queries) => new(queries.Select(SpecQuery.Parse).ToList());

    private static async Task<TempDir> IndexedV3Async()
    {
        var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        await IndexOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)), new IndexOptions(), null, Token);
        return mirror;
    }

    private static async Task<List<string>> ListedAsync(string root) =>
        (await ListOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(root)), new ListOptions([]), null, Token))
        .Rows.Select(r => r.Name).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task ANeededDependencyIsRefusedNamingTheDependentAndNothingIsRemoved()
    {
        using var mirror = await IndexedV3Async();
        var before = PlantedOrphans.Files(mirror.Path);

        var e = await Assert.ThrowsAsync<DepotException>(() => RmAsync(mirror.Path, Named("libgreet")));

        Assert.Equal(ErrorKind.Conflict, e.Kind);
        Assert.Equal(HintAction.ForceRemoval, e.Hint?.Action);
        Assert.StartsWith("libgreet@1.0.0/45qqyrd is not removed: greet@1.0.0/ilccysm, which stays in ", e.Message,
            StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(before, PlantedOrphans.Files(mirror.Path));

        // Removing the dependent with it is fine; so is --force alone.
        var both = await RmAsync(mirror.Path, Named("greet", "libgreet") with { DryRun = true });
        Assert.Equal(2, both.Items.Count);
        Assert.Equal(before, PlantedOrphans.Files(mirror.Path));
        var forced = await RmAsync(mirror.Path, Named("libgreet") with { Force = true });
        Assert.Equal("libgreet@1.0.0/45qqyrd", Assert.Single(forced.Items).Name);
        Assert.DoesNotContain("libgreet", await ListedAsync(mirror.Path));
    }

    [Fact]
    public async Task RmRemovesTheEntryAndTheBlobsOnlyItUsedThenReindexes()
    {
        using var mirror = await IndexedV3Async();
        var before = PlantedOrphans.Files(mirror.Path);

        var result = await RmAsync(mirror.Path, Named("greet"));

        var item = Assert.Single(result.Items);
        Assert.Equal(PruneReason.Removed, item.Reason);
        Assert.Equal(3, item.Keys.Count);
        Assert.StartsWith("v3/manifests/spec/greet/", item.Keys[0], StringComparison.Ordinal);
        var after = PlantedOrphans.Files(mirror.Path);
        Assert.Empty(after.Intersect(item.Keys));
        Assert.Single(result.Index);
        Assert.Equal(["compiler-wrapper", "gcc-runtime", "greet-data", "libgreet"], await ListedAsync(mirror.Path));
        Assert.Equal(4, await MirrorState.AssertWholeAsync(mirror.Path));
        Assert.All(before.Except(item.Keys).Except(after), k => Assert.StartsWith("v3/manifests/index/", k,
            StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASharedBlobStaysWhileAnotherManifestNamesIt()
    {
        using var mirror = new TempDir();
        SyntheticMirror.Write(mirror.Path, "3", 2);
        var store = new LocalDirectoryStore(mirror.Path);
        var manifests = PlantedOrphans.Files(mirror.Path).Where(k => k.EndsWith(".spec.manifest.json",
            StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        // the second entry names the first's tarball blob too
        var first = Depot.Layout.BuildCacheManifest.Parse(await store.ReadAllBytesAsync(manifests[0],
            cancellationToken: Token), manifests[0]);
        var second = Depot.Layout.BuildCacheManifest.Parse(await store.ReadAllBytesAsync(manifests[1],
            cancellationToken: Token), manifests[1]);
        var shared = first.Find(Depot.Layout.MediaTypes.Tarball)!;
        await store.WriteAllBytesAsync(manifests[1], new Depot.Layout.BuildCacheManifest([shared,
            second.Find(Depot.Layout.MediaTypes.SpecPrefix, prefix: true)!]).ToJsonBytes(), Token);

        var result = await RmAsync(mirror.Path, Named("greet-data@3.0"));

        Assert.DoesNotContain(shared.BlobKey, Assert.Single(result.Items).Keys);
        Assert.Contains(shared.BlobKey, PlantedOrphans.Files(mirror.Path));
        Assert.Equal(1, await MirrorState.AssertWholeAsync(mirror.Path));
    }

    [Fact]
    public async Task AQueryMustNameExactlyOneSpec()
    {
        using var mirror = new TempDir();
        SyntheticMirror.Write(mirror.Path, "4", 3);

        var several = await Assert.ThrowsAsync<DepotException>(() => RmAsync(mirror.Path, Named("greet-data")));
        Assert.Equal(ErrorKind.Usage, several.Kind);
        Assert.Contains("greet-data matches 3 entries (greet-data@4.", several.Message, StringComparison.Ordinal);

        var none = await Assert.ThrowsAsync<DepotException>(() => RmAsync(mirror.Path, Named("zlib")));
        Assert.Equal((ErrorKind.NotFound, "no entry matches zlib"), (none.Kind, none.Message));
        Assert.Equal(3, PlantedOrphans.Files(mirror.Path).Count(k => k.EndsWith(".spec.manifest.json",
            StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TheV2LayoutLosesTheSpecFileAndTarball()
    {
        using var mirror = TestData.Copy(TestData.V2Unsigned);
        var result = await RmAsync(mirror.Path, Named("greet"));

        var item = Assert.Single(result.Items);
        Assert.Equal(2, item.Keys.Count);
        Assert.EndsWith(".spec.json", item.Keys[0], StringComparison.Ordinal);
        Assert.EndsWith(".spack", item.Keys[1], StringComparison.Ordinal);
        Assert.Equal(["greet-data", "libgreet"], await ListedAsync(mirror.Path));
        Assert.Equal(2, await MirrorState.AssertWholeAsync(mirror.Path));
    }
}
