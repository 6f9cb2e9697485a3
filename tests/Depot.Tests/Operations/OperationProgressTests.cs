using Depot.Operations;
using Depot.Signing;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// Sign and copy tell a host how far they are (issue 17, item 8), as push, install, verify and index do: every entry
/// counts once, up to the number of entries.
/// </summary>
public sealed class OperationProgressTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Keeps every report, in the order they came (reports arrive from parallel workers).</summary>
    private sealed class Recorder<T> : IProgress<T>
    {
        public List<T> Reports { get; } = [];

        public void Report(T value)
        {
            lock (Reports)
            {
                Reports.Add(value);
            }
        }
    }

    [Fact]
    public async Task SignCountsEveryEntryOnceUpToTheTotal()
    {
        using var home = new TempDir();
        using var mirror = TestData.Copy(TestData.V3Unsigned);
        var progress = new Recorder<OperationProgress>();

        var result = await SignOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)),
            TestData.FixtureKeyring(home.Path).SigningKey(), force: false, parallelism: 3, progress, Token);

        Assert.Equal(5, result.Signed);
        Assert.Equal(5, progress.Reports.Count);
        Assert.All(progress.Reports, p => Assert.Equal(("sign", 5), (p.Phase, p.Total)));
        Assert.Equal([1, 2, 3, 4, 5], progress.Reports.Select(p => p.Done).Order().ToArray());
    }

    [Fact]
    public async Task CopyCountsEntriesExaminedUpToTheEntriesTheSourceHolds()
    {
        using var source = TestData.Copy(TestData.V3Unsigned);
        using var destination = new TempDir();
        var progress = new Recorder<CopyProgress>();

        var result = await CopyOperation.RunAsync(
            Mirror.Of(new LocalDirectoryStore(source.Path), TrustPolicy.None("source")),
            Mirror.Of(new LocalDirectoryStore(destination.Path)), new CopyOptions([SpecQuery("greet-data")]),
            progress, Token);

        Assert.Equal(1, result.Count(CopyStatus.Copied));
        Assert.All(progress.Reports, p => Assert.Equal(5, p.Entries));
        Assert.All(progress.Reports, p => Assert.InRange(p.Examined, 0, 5));
        var outcome = Assert.Single(progress.Reports, p => p.Outcome is not null);
        Assert.Equal("greet-data", outcome.Name);
        Assert.InRange(outcome.Examined, 1, 5);
        Assert.Contains(progress.Reports, p => p.Outcome is null && p.Done > 0 && p.Name == "greet-data");
    }

    private static Depot.Specs.SpecQuery SpecQuery(string text) => Depot.Specs.SpecQuery.Parse(text);
}
