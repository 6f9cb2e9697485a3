using Depot.InstallTree;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// Operations that write, cancelled while a store request is under way (<see cref="CancellingStore"/>): each throws
/// <see cref="OperationCanceledException"/> and leaves a mirror that is whole — no temporary object, every entry
/// complete and verifiable, an index that names only entries there — and the same operation run again completes it.
/// </summary>
public class CancelledWriteTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task PushAsync(Mirror mirror, CancellationToken token)
    {
        var db = await InstallDatabase.ReadAsync(TestData.Path("spack-1.2/install-tree"), cancellationToken: Token);
        var plan = PushSelection.Select(db, [], all: true);
        await PushOperation.RunAsync(mirror, db, plan, new PushOptions(Parallelism: 2), null, token);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(9)]
    [InlineData(15)]
    public async Task PushCancelledAtTheNthWriteThrowsAndLeavesOnlyWholeEntries(int nth)
    {
        using var mirror = new TempDir();
        var store = new CancellingStore(new LocalDirectoryStore(mirror.Path), StoreCall.Write, nth);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            PushAsync(Mirror.Of(store, layout: PushLayout.V3), store.Source.Token));

        Assert.True(store.Fired, $"push made {store.Calls} writes, fewer than {nth}");
        var entries = await MirrorState.AssertWholeAsync(mirror.Path);
        Assert.InRange(entries, 0, 4); // the cancelled entry is not there
        await PushAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path), layout: PushLayout.V3), Token);
        Assert.Equal(5, await MirrorState.AssertWholeAsync(mirror.Path));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task IndexCancelledAtTheNthWriteThrowsAndKeepsTheOldIndexOrAWholeNewOne(int nth)
    {
        using var copy = TestData.InstallableV3(TestData.V3Unsigned);
        var indexes = Directory.GetFiles(Path.Combine(copy.Path, "v3", "manifests", "index"));
        var before = indexes.ToDictionary(f => f, File.ReadAllBytes);
        var store = new CancellingStore(new LocalDirectoryStore(copy.Path), StoreCall.Write, nth);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true), null, store.Source.Token));

        Assert.True(store.Fired, $"index made {store.Calls} writes, fewer than {nth}");
        Assert.Equal(5, await MirrorState.AssertWholeAsync(copy.Path));
        if (nth == 1)
        {
            // Nothing was written: the index manifest is the old one, byte for byte.
            Assert.All(before, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(10)]
    public async Task CopyCancelledAtTheNthWriteThrowsAndLeavesOnlyWholeEntries(int nth)
    {
        using var source = TestData.InstallableV3(TestData.V3Unsigned);
        using var destination = new TempDir();
        var store = new CancellingStore(new LocalDirectoryStore(destination.Path), StoreCall.Write, nth);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CopyOperation.RunAsync(
            Mirror.Of(new LocalDirectoryStore(source.Path), TrustPolicy.None(source.Path)),
            Mirror.Of(store, layout: PushLayout.V3), new CopyOptions([], Parallelism: 2), null, store.Source.Token));

        Assert.True(store.Fired, $"copy made {store.Calls} writes, fewer than {nth}");
        Assert.InRange(await MirrorState.AssertWholeAsync(destination.Path), 0, 4);
        await CopyOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(source.Path), TrustPolicy.None(source.Path)),
            Mirror.Of(new LocalDirectoryStore(destination.Path), layout: PushLayout.V3), new CopyOptions([]), null,
            Token);
        Assert.Equal(5, await MirrorState.AssertWholeAsync(destination.Path));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task SignCancelledAtTheNthWriteThrowsAndLeavesEachEntrySignedOrAsItWas(int nth)
    {
        using var home = new TempDir();
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var keyring = TestData.FixtureKeyring(home.Path);
        var store = new CancellingStore(new LocalDirectoryStore(mirror.Path), StoreCall.Write, nth);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SignOperation.RunAsync(Mirror.Of(store),
            keyring.SigningKey(), force: false, parallelism: 2, cancellationToken: store.Source.Token));

        Assert.True(store.Fired, $"sign made {store.Calls} writes, fewer than {nth}");
        var verifier = new SignatureVerifier(keyring.TrustedRings());
        var signedSoFar = await MirrorState.AssertWholeAsync(mirror.Path,
            new TrustPolicy(mirror.Path, verifier, requireSignature: false));
        Assert.Equal(5, signedSoFar);
        var again = await SignOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)),
            keyring.SigningKey(), force: false, cancellationToken: Token);
        Assert.Equal(5, again.Signed + again.AlreadySigned);
        var verified = await VerifyOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path),
            TestData.Trusting(keyring, mirror.Path)), new VerifyOptions([]), null, Token);
        Assert.Equal((5, 5, 0), (verified.Checked, verified.Signed, verified.Failures.Count));
    }
}
