using Depot.Operations;
using Depot.Specs;

namespace Depot.Tests.Operations;

/// <summary>
/// <c>install</c> with fail-fast on a mirror with one broken entry (the committed v3 mirror lacks gcc-runtime's
/// tarball, which every other package of greet's closure links to): the run stops at that entry, installs nothing
/// else, and says which entry failed and why.
/// </summary>
public class InstallFailFastTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Task<InstallResult> InstallAsync(string root, bool failFast) =>
        InstallOperation.RunAsync([InstallOperationTests.Source(TestData.Path(TestData.V3Unsigned), signed: false)],
            [SpecQuery.Parse("greet"), SpecQuery.Parse("greet-data")],
            new InstallOptions(new PlainRootTarget(root), Parallelism: 1, FailFast: failFast), null, Token);

    [Fact]
    public async Task FailFastStopsAtTheBrokenEntryInstallsNothingElseAndNamesIt()
    {
        using var temp = new TempDir();
        var root = Path.Combine(temp.Path, "sw");
        var result = await InstallAsync(root, failFast: true);

        var failed = Assert.Single(result.Outcomes, o => o.Status == InstallStatus.Failed);
        Assert.Equal("gcc-runtime", failed.Name);
        Assert.EndsWith("/blobs/sha256/3c/3ca324a3e79d81def85772fafce958af3bc2bcd97889f8683c001e11605f19cf: not found",
            failed.Reason, StringComparison.Ordinal); // the tarball's blob, by its address
        Assert.DoesNotContain(result.Outcomes, o => o.Status == InstallStatus.Installed);
        var stopped = result.Outcomes.Where(o => o.Status == InstallStatus.NotAttempted).Select(o => o.Name).ToList();
        Assert.Equal(["greet", "greet-data", "libgreet"], stopped.Order(StringComparer.Ordinal));
        Assert.All(result.Outcomes.Where(o => o.Status == InstallStatus.NotAttempted),
            o => Assert.Equal("not attempted (--fail-fast)", o.Reason));
        Assert.True(result.AnyFailed);
        Assert.False(Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any(),
            "the root holds: " + string.Join(", ", Directory.Exists(root) ? Directory.EnumerateFileSystemEntries(root)
                : []));
    }

    [Fact]
    public async Task WithoutFailFastTheSameMirrorStillInstallsTheIndependentPackage()
    {
        // The contrast that makes the fail-fast test mean something: greet-data does not need gcc-runtime.
        using var temp = new TempDir();
        var result = await InstallAsync(Path.Combine(temp.Path, "sw"), failFast: false);
        Assert.Equal(InstallStatus.Installed, result.Outcomes.Single(o => o.Name == "greet-data").Status);
        Assert.Equal(InstallStatus.Failed, result.Outcomes.Single(o => o.Name == "gcc-runtime").Status);
        Assert.DoesNotContain(result.Outcomes, o => o.Status == InstallStatus.NotAttempted);
    }
}
