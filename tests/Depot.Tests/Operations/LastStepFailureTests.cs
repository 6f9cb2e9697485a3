using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// A push or copy whose entries were written and whose last step (the index update) then fails
/// (<see cref="IndexWriteFailingStore"/>): the run throws that step's error as an
/// <see cref="IncompleteRunException{TResult}"/> carrying the report of what was done, the entries are in the mirror
/// and the previous index (here: none) is left as it was.
/// </summary>
public class LastStepFailureTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(PushLayout.V3, "v3/manifests/index/index.manifest.json")]
    [InlineData(PushLayout.V2, "build_cache/index.json")]
    public async Task APushWhoseIndexWriteFailsThrowsThatErrorWithTheReportOfWhatWasPushed(PushLayout layout,
        string index)
    {
        using var mirror = new TempDir();
        var store = new IndexWriteFailingStore(new LocalDirectoryStore(mirror.Path));

        var e = await Assert.ThrowsAsync<IncompleteRunException<PushResult>>(() => PushOperationTests.PushAsync(
            TestData.Path("spack-1.2/install-tree"), Mirror.Of(store, layout: layout), new PushOptions()));

        Assert.True(store.Refused > 0);
        Assert.Equal(ErrorKind.IO, e.Kind);
        Assert.StartsWith(mirror.Combine(index), e.Message, StringComparison.Ordinal); // v2: index.json or its hash
        Assert.EndsWith(": " + IndexWriteFailingStore.Refusal, e.Message, StringComparison.Ordinal);
        Assert.Equal(5, e.Result.Count(PushStatus.Pushed));
        Assert.Equal(3, e.Result.Count(PushStatus.SkippedExternal));
        Assert.Null(e.Result.Index);
        Assert.Same(e.Result, e.PartialResult);
        Assert.False(File.Exists(mirror.Combine(index)));

        // What the report says was pushed is in the mirror, whole.
        var scanned = await ListOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)),
            new ListOptions([], Rescan: true), null, Token);
        Assert.Empty(scanned.Problems);
        Assert.Equal(e.Result.Outcomes.Where(o => o.Status == PushStatus.Pushed).Select(o => o.Hash).Order(),
            scanned.Rows.Select(r => r.Hash).Order());
    }

    [Fact]
    public async Task ACopyWhoseIndexWriteFailsThrowsThatErrorWithTheReportOfWhatWasCopied()
    {
        using var source = TestData.InstallableV3(TestData.V3Unsigned);
        using var target = new TempDir();
        var store = new IndexWriteFailingStore(new LocalDirectoryStore(target.Path));

        var e = await Assert.ThrowsAsync<IncompleteRunException<CopyResult>>(() => CopyOperation.RunAsync(
            Mirror.Of(new LocalDirectoryStore(source.Path), TrustPolicy.None(source.Path)),
            Mirror.Of(store, layout: PushLayout.V3), new CopyOptions([]), null, Token));

        Assert.Equal(ErrorKind.IO, e.Kind);
        Assert.EndsWith(IndexWriteFailingStore.Refusal, e.Message, StringComparison.Ordinal);
        Assert.Equal(5, e.Result.Count(CopyStatus.Copied));
        Assert.Null(e.Result.Index);
        Assert.False(File.Exists(target.Combine("v3/manifests/index/index.manifest.json")));
        var scanned = await ListOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(target.Path)),
            new ListOptions([], Rescan: true), null, Token);
        Assert.Equal(5, scanned.Rows.Count);
    }

    [Fact]
    public void AnErrorThatIsABugIsNotWrappedAsAnIncompleteRun()
    {
        var result = new CopyResult("a", "b", PushLayout.V3, [], null, null, TimeSpan.Zero);
        Assert.Null(IncompleteRunException.Of(result, new InvalidOperationException("a bug")));
        Assert.Null(IncompleteRunException.Of(result, new OperationCanceledException()));
        var wrapped = IncompleteRunException.Of(result, new IOException("No space left on device"));
        Assert.Equal((ErrorKind.IO, "No space left on device"), (wrapped!.Kind, wrapped.Message));
    }
}
