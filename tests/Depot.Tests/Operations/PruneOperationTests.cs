using Depot.Layout;
using Depot.Operations;
using Depot.Storage;
using Depot.Tests.Server;

namespace Depot.Tests.Operations;

public class PruneOperationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly TimeSpan LongAgo = TimeSpan.FromHours(3);

    private static Task<PruneResult> PruneAsync(string root, PruneOptions options) =>
        PruneOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(root)), options, null, Token);

    private static List<string> KeysOf(PruneResult result) =>
        result.Items.SelectMany(i => i.Keys).Order(StringComparer.Ordinal).ToList();

    // The fixture, complete and indexed, less what that left unreferenced: Spack's own index blob, replaced.
    private static async Task<TempDir> IndexedV3Async()
    {
        var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        await IndexOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)), new IndexOptions(), null, Token);
        PlantedOrphans.Age(mirror.Path, PlantedOrphans.Files(mirror.Path), TimeSpan.FromDays(1));
        var baseline = await PruneAsync(mirror.Path, new PruneOptions(Apply: true));
        Assert.All(baseline.Items, i => Assert.Equal(PruneReason.OrphanBlob, i.Reason));
        Assert.Empty(baseline.Problems);
        return mirror;
    }

    [Fact]
    public async Task TheDryRunListsExactlyThePlantedOrphansAndYesRemovesExactlyThem()
    {
        using var mirror = await IndexedV3Async();
        var store = new LocalDirectoryStore(mirror.Path);
        var expected = await PlantedOrphans.PlantV3Async(store);
        expected.UnionWith(PlantedOrphans.PlantTemporaries(mirror.Path));
        PlantedOrphans.Age(mirror.Path, expected, LongAgo);
        var youngTemporaries = PlantedOrphans.PlantTemporaries(mirror.Path);
        var before = PlantedOrphans.Files(mirror.Path);

        var plan = await PruneAsync(mirror.Path, new PruneOptions());

        Assert.False(plan.Applied);
        Assert.Equal(expected.Order(StringComparer.Ordinal), KeysOf(plan));
        Assert.Equal(["broken-entry", "orphan-blob", "temporary", "temporary", "unlisted-key"],
            plan.Items.Select(i => i.ReasonName).Order(StringComparer.Ordinal));
        Assert.Equal(expected.Sum(k => new FileInfo(Path.Combine(mirror.Path, k)).Length), plan.Bytes);
        Assert.Equal(before, PlantedOrphans.Files(mirror.Path));
        Assert.Empty(plan.Problems);

        var done = await PruneAsync(mirror.Path, new PruneOptions(Apply: true));

        Assert.True(done.Applied);
        Assert.Equal(expected.Order(StringComparer.Ordinal), KeysOf(done));
        var after = PlantedOrphans.Files(mirror.Path);
        Assert.Empty(after.Intersect(expected));
        Assert.Empty(before.Except(expected).Except(after));
        Assert.Single(done.Index);
        foreach (var young in youngTemporaries)
        {
            Assert.Contains(young, after);
            File.Delete(Path.Combine(mirror.Path, young));
        }

        Assert.Equal(5, await MirrorState.AssertWholeAsync(mirror.Path));
        Assert.Empty((await PruneAsync(mirror.Path, new PruneOptions())).Items);
    }

    [Fact]
    public async Task TheV2LayoutLosesItsOrphanTarballBrokenEntryAndUnlistedKeyOnly()
    {
        using var mirror = TestData.Copy(TestData.V2Unsigned);
        var expected = await PlantedOrphans.PlantV2Async(new LocalDirectoryStore(mirror.Path));
        PlantedOrphans.Age(mirror.Path, expected, LongAgo);
        var before = PlantedOrphans.Files(mirror.Path);

        var plan = await PruneAsync(mirror.Path, new PruneOptions());
        Assert.Equal(expected.Order(StringComparer.Ordinal), KeysOf(plan));
        Assert.Equal(["broken-entry", "orphan-blob", "unlisted-key"],
            plan.Items.Select(i => i.ReasonName).Order(StringComparer.Ordinal));

        var done = await PruneAsync(mirror.Path, new PruneOptions(Apply: true));
        Assert.Equal(expected.Order(StringComparer.Ordinal), KeysOf(done));
        var after = PlantedOrphans.Files(mirror.Path);
        Assert.Empty(after.Intersect(expected));
        var lost = before.Except(expected).Except(after).ToList();
        Assert.All(lost, k => Assert.Contains("index.json", k, StringComparison.Ordinal));
        Assert.Equal(2, await MirrorState.AssertWholeAsync(mirror.Path));
    }

    [Fact]
    public async Task NothingYoungerThanTheGracePeriodIsTouched()
    {
        using var mirror = await IndexedV3Async();
        var expected = await PlantedOrphans.PlantV3Async(new LocalDirectoryStore(mirror.Path));
        expected.UnionWith(PlantedOrphans.PlantTemporaries(mirror.Path));

        Assert.Empty((await PruneAsync(mirror.Path, new PruneOptions(Apply: true))).Items);
        Assert.Empty(expected.Except(PlantedOrphans.Files(mirror.Path)));
        Assert.Empty((await PruneAsync(mirror.Path, new PruneOptions(Grace: TimeSpan.FromMinutes(5)))).Items);
        Assert.Equal(expected.Order(StringComparer.Ordinal),
            KeysOf(await PruneAsync(mirror.Path, new PruneOptions(Grace: TimeSpan.Zero))));
    }

    [Fact]
    public async Task OlderThanKeepsEveryLinkRunDependencyOfWhatStays()
    {
        using var mirror = await IndexedV3Async();
        PlantedOrphans.Age(mirror.Path, PlantedOrphans.Files(mirror.Path), TimeSpan.FromDays(100));
        var greet = PlantedOrphans.Files(mirror.Path)
            .Single(k => k.Contains("/greet-1.0.0-", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(Path.Combine(mirror.Path, greet), DateTime.UtcNow);

        var plan = await PruneAsync(mirror.Path, new PruneOptions(OlderThan: TimeSpan.FromDays(90)));

        // greet stays, so libgreet and gcc-runtime (link) stay; compiler-wrapper was only a build dependency.
        Assert.Equal(["compiler-wrapper@1.0/kc6obss", "greet-data@1.0.0/peahnwn"],
            plan.Items.Select(i => i.Name).Order(StringComparer.Ordinal));
        Assert.All(plan.Items, i => Assert.Equal(PruneReason.Expired, i.Reason));
        Assert.All(plan.Items, i => Assert.Equal(3, i.Keys.Count)); // manifest, spec blob, tarball blob

        var done = await PruneAsync(mirror.Path, new PruneOptions(Apply: true, OlderThan: TimeSpan.FromDays(90)));
        Assert.Equal(KeysOf(plan), KeysOf(done));
        Assert.Equal(3, await MirrorState.AssertWholeAsync(mirror.Path));

        // Once greet is old too, every entry goes (and the index blob the update replaced, a day old).
        var all = await PruneAsync(mirror.Path, new PruneOptions(OlderThan: TimeSpan.FromMinutes(0)));
        Assert.Equal(3, all.Items.Count(i => i.Reason == PruneReason.Expired));
        Assert.Equal(PruneReason.OrphanBlob, Assert.Single(all.Items, i => i.Reason != PruneReason.Expired).Reason);
    }

    [Fact]
    public async Task KeepLastKeepsTheNewestVersionsAndKeepFilesTheirClosures()
    {
        using var mirror = new TempDir();
        var hashes = SyntheticMirror.Write(mirror.Path, "2", 5);
        var manifests = PlantedOrphans.Files(mirror.Path).Where(k => k.StartsWith("v3/manifests/spec/",
            StringComparison.Ordinal)).ToList();
        PlantedOrphans.Age(mirror.Path, PlantedOrphans.Files(mirror.Path), TimeSpan.FromDays(30));
        for (var i = 0; i < 5; i++)
        {
            // version 2.i pushed i days after 2.0
            PlantedOrphans.Age(mirror.Path, manifests.Where(m => m.Contains($"-2.{i}-", StringComparison.Ordinal)),
                TimeSpan.FromDays(10 - i));
        }

        var plan = await PruneAsync(mirror.Path, new PruneOptions(KeepLast: 2));
        Assert.Equal(["greet-data@2.0/", "greet-data@2.1/", "greet-data@2.2/"],
            plan.Items.Select(i => i.Name[..^7]).Order(StringComparer.Ordinal));

        var keep = new HashSet<string>(StringComparer.Ordinal) { hashes[1] };
        var kept = await PruneAsync(mirror.Path, new PruneOptions(Apply: true, KeepLast: 2, Keep: keep));
        Assert.Equal(["greet-data@2.0/", "greet-data@2.2/"],
            kept.Items.Select(i => i.Name[..^7]).Order(StringComparer.Ordinal));
        Assert.Equal(3, await MirrorState.AssertWholeAsync(mirror.Path));

        // With --older-than too, an entry goes only when both rules let it.
        var both = await PruneAsync(mirror.Path, new PruneOptions(KeepLast: 1, OlderThan: TimeSpan.FromDays(7.5)));
        Assert.Equal(["greet-data@2.1/"], both.Items.Select(i => i.Name[..^7]));
    }

    [Fact]
    public async Task AManifestThatCannotBeReadStopsBlobPruningAndSaysSo()
    {
        using var mirror = await IndexedV3Async();
        var store = new LocalDirectoryStore(mirror.Path);
        var expected = await PlantedOrphans.PlantV3Async(store);
        PlantedOrphans.Age(mirror.Path, expected, LongAgo);
        var bad = BuildCacheV3.SpecManifestPrefix + "bad/bad-1-" + PlantedOrphans.NewHash()
            + BuildCacheV3.SpecManifestSuffix;
        await store.WriteAllTextAsync(bad, "{not json", Token);

        var plan = await PruneAsync(mirror.Path, new PruneOptions());

        Assert.Contains(bad, Assert.Single(plan.Problems).Message, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Items, i => i.Reason == PruneReason.OrphanBlob);
        Assert.DoesNotContain(plan.Items.SelectMany(i => i.Keys),
            k => k.StartsWith("blobs/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReadOnlyMirrorIsRefusedInOneLine()
    {
        using var store = new HttpStore("http://127.0.0.1:9/m");
        var e = await Assert.ThrowsAnyAsync<DepotException>(() => PruneOperation.RunAsync(Mirror.Of(store),
            new PruneOptions(), null, Token));
        Assert.Equal(ErrorKind.Unsupported, e.Kind);
        Assert.DoesNotContain('\n', e.Message);
    }
}
