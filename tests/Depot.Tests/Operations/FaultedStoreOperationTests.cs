using Depot.InstallTree;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Depot.Storage.Faults;

namespace Depot.Tests.Operations;

/// <summary>
/// Operations over a mirror that fails (<see cref="FaultInjectingStore"/>: a fifth of requests throttled, refused,
/// timed out, reset mid-body, cut short, slowed or with their answer lost), through the engine's retries
/// (<see cref="RetryingStore"/>), with three seeds each: every operation completes as it would on a healthy store,
/// and leaves the mirror whole (<see cref="MirrorState.AssertWholeAsync"/>: no temporary object, every entry
/// verifies, the index names exactly the entries there). A body cut short without any error is refused by the
/// reader's checksums, never taken as content.
/// </summary>
public class FaultedStoreOperationTests
{
    private static readonly StoreRetryPolicy QuickRetries =
        new(8, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(20));

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static (IObjectStore Store, FaultPlan Plan) Faulty(string path, int seed, double rate = 0.2,
        FaultKinds kinds = FaultKinds.Default)
    {
        var plan = new FaultPlan(seed, rate, kinds);
        return (new RetryingStore(new FaultInjectingStore(new LocalDirectoryStore(path), plan), QuickRetries), plan);
    }

    private static void AssertFaulted(FaultPlan plan) =>
        Assert.True(plan.Injected.Values.Sum() > 0, "no fault was injected");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task PushCompletesAndLeavesOnlyWholeEntries(int seed)
    {
        using var mirror = new TempDir();
        var (store, plan) = Faulty(mirror.Path, seed);
        var db = await InstallDatabase.ReadAsync(TestData.Path("spack-1.2/install-tree"), cancellationToken: Token);

        var result = await PushOperation.RunAsync(Mirror.Of(store, layout: PushLayout.V3), db,
            PushSelection.Select(db, [], all: true), new PushOptions(Parallelism: 2), null, Token);

        Assert.All(result.Outcomes, o => Assert.True(o.Status is PushStatus.Pushed or PushStatus.SkippedExternal,
            $"{o.Name}: {o.Reason}"));
        Assert.Equal(5, result.Outcomes.Count(o => o.Status == PushStatus.Pushed));
        AssertFaulted(plan);
        Assert.Equal(5, await MirrorState.AssertWholeAsync(mirror.Path));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task IndexVerifyAndListComplete(int seed)
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var (store, plan) = Faulty(mirror.Path, seed);

        var indexed = await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true), null, Token);
        Assert.Equal(5, indexed.Single().Specs);
        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, TrustPolicy.None(mirror.Path)),
            new VerifyOptions([], Parallelism: 2), null, Token);
        Assert.True(verified.Ok, string.Join("; ", verified.Failures.Select(f => f.Message)));
        Assert.Equal(5, verified.Checked);
        foreach (var rescan in new[] { false, true })
        {
            var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([], Rescan: rescan), null,
                Token);
            Assert.Empty(listed.Problems);
            Assert.Equal(5, listed.Rows.Count);
        }

        AssertFaulted(plan);
        Assert.Equal(5, await MirrorState.AssertWholeAsync(mirror.Path));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public async Task InstallCompletes(int seed, bool spackTree)
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        using var temp = new TempDir();
        var root = Path.Combine(temp.Path, "tree");
        InstallTarget target = spackTree ? new SpackTreeTarget(root) : new PlainRootTarget(root);
        var (store, plan) = Faulty(mirror.Path, seed);

        var result = await InstallOperation.RunAsync([Mirror.Of(store, TrustPolicy.None(mirror.Path))],
            [SpecQuery.Parse("greet")], new InstallOptions(target, Parallelism: 2), null, Token);

        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        Assert.Equal(InstallStatus.Installed, result.Outcomes.Single(o => o.Name == "greet").Status);
        AssertFaulted(plan);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task CopyBetweenFailingStoresCompletesWhole(int seed)
    {
        using var source = TestData.InstallableV3(TestData.V3Unsigned);
        using var destination = new TempDir();
        var (from, fromPlan) = Faulty(source.Path, seed);
        var (to, toPlan) = Faulty(destination.Path, seed + 100);

        var result = await CopyOperation.RunAsync(Mirror.Of(from, TrustPolicy.None(source.Path)),
            Mirror.Of(to, layout: PushLayout.V3), new CopyOptions([], Parallelism: 2), null, Token);

        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        AssertFaulted(fromPlan);
        AssertFaulted(toPlan);
        Assert.Equal(5, await MirrorState.AssertWholeAsync(destination.Path));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task PruneRemovesTheOrphansAndKeepsEveryEntry(int seed)
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var planted = await PlantedOrphans.PlantV3Async(new LocalDirectoryStore(mirror.Path));
        var (store, plan) = Faulty(mirror.Path, seed);
        var healthy = await PruneOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)),
            new PruneOptions(Grace: TimeSpan.Zero), null, Token);

        var result = await PruneOperation.RunAsync(Mirror.Of(store),
            new PruneOptions(Apply: true, Grace: TimeSpan.Zero), null, Token);

        Assert.Empty(result.Problems);
        Assert.True(result.Applied);
        Assert.Superset(planted, healthy.Items.SelectMany(i => i.Keys).ToHashSet());
        Assert.Equal(healthy.Items.SelectMany(i => i.Keys).Order(StringComparer.Ordinal),
            result.Items.SelectMany(i => i.Keys).Order(StringComparer.Ordinal));
        var left = await new LocalDirectoryStore(mirror.Path).ListKeysAsync("", Token).ToListAsync(Token);
        Assert.DoesNotContain(left, planted.Contains);
        AssertFaulted(plan);
        Assert.Equal(5, await MirrorState.AssertWholeAsync(mirror.Path));
    }

    [Fact]
    public async Task BodiesCutShortWithoutAnErrorAreRefusedNeverInstalledNorVerified()
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        using var temp = new TempDir();
        var root = Path.Combine(temp.Path, "root");
        var (store, plan) = Faulty(mirror.Path, 5, rate: 1, FaultKinds.SilentTruncate);

        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, TrustPolicy.None(mirror.Path)),
            new VerifyOptions([], Parallelism: 2), null, Token);
        Assert.False(verified.Ok);
        Assert.All(verified.Failures, f => Assert.DoesNotContain('\n', f.Message));

        try
        {
            var installed = await InstallOperation.RunAsync([Mirror.Of(store, TrustPolicy.None(mirror.Path))],
                [SpecQuery.Parse("greet")], new InstallOptions(new PlainRootTarget(root), Parallelism: 2), null,
                Token);
            Assert.True(installed.AnyFailed);
            Assert.All(installed.Outcomes.Where(o => o.Reason is not null),
                o => Assert.DoesNotContain('\n', o.Reason!));
        }
        catch (DepotException e)
        {
            Assert.DoesNotContain('\n', e.Message);
        }

        Assert.True(plan.Injected[FaultKinds.SilentTruncate] > 0);
        // The same install from the healthy store succeeds: nothing half-installed was left in its way.
        var again = await InstallOperation.RunAsync([Mirror.Of(new LocalDirectoryStore(mirror.Path),
            TrustPolicy.None(mirror.Path))], [SpecQuery.Parse("greet")],
            new InstallOptions(new PlainRootTarget(root)), null, Token);
        Assert.False(again.AnyFailed, string.Join("; ", again.Outcomes.Select(o => o.Reason)));
    }
}
