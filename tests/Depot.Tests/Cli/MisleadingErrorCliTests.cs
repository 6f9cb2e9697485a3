using Depot.Cli;
using Depot.Tests.Signing;
using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// Errors that pointed at the wrong thing: a damaged or missing index, a garbage manifest, a registry repository that
/// does not exist, a refused signature. Each now names what is wrong (the file, the repository) and the fix, and an
/// install from a mirror whose index is damaged reads its entries instead.
/// </summary>
public sealed class MisleadingErrorCliTests(DockerRegistry registry) : CliTestBase, IClassFixture<DockerRegistry>
{
    private const string IndexManifest = "v3/manifests/index/index.manifest.json";

    private static string GreetManifest(string mirror) => Directory.EnumerateFiles(
        Path.Combine(mirror, "v3/manifests/spec/greet"), "greet-1.0.0-*.spec.manifest.json").Single();

    // The index blob the index manifest names.
    private static string IndexBlob(string mirror)
    {
        var checksum = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(mirror, IndexManifest)))
            .RootElement.GetProperty("data")[0].GetProperty("checksum").GetString()!;
        return Path.Combine(mirror, "blobs/sha256", checksum[..2], checksum);
    }

    [Fact]
    public async Task AGarbageManifestIsNamedByInstallAsListNamesIt()
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        File.Delete(Path.Combine(mirror.Path, IndexManifest));
        var manifest = GreetManifest(mirror.Path);
        File.WriteAllText(manifest, "{garbage");
        var root = Scratch.Combine("root");

        var run = await RunAsync("install", "greet", "--from", mirror.Path, "--root", root, "--no-verify");

        Assert.True(run.Code == ExitCodes.NotFound, run.Err);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"depot: error: 'greet' matches nothing cached in {mirror.Path}, but 1 entry could not be "
            + $"read and may hold it: {manifest}: malformed JSON", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(root));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("garbage")]
    [InlineData("truncated")]
    public async Task AnInstallFromAMirrorWhoseIndexIsDamagedReadsTheEntriesAndSaysWhy(string damage)
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var index = Path.Combine(mirror.Path, IndexManifest);
        var blob = IndexBlob(mirror.Path);
        switch (damage)
        {
            case "missing":
                File.Delete(index);
                break;
            case "garbage":
                File.WriteAllText(index, "garbage");
                break;
            default:
                File.WriteAllBytes(blob, File.ReadAllBytes(blob)[..100]);
                break;
        }

        var run = await RunAsync("install", "greet", "--from", mirror.Path, "--root", Scratch.Combine("root"),
            "--no-verify");

        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("installed greet@1.0.0", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("which no mirror holds", run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("glibc", run.Err, StringComparison.Ordinal);
        if (damage == "missing")
        {
            Assert.Equal("", run.Err); // no index is a cache Spack would read too: its entries are the truth
            return;
        }

        var warning = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"depot: warning: {(damage == "garbage" ? index : blob)}: ", warning,
            StringComparison.Ordinal);
        Assert.EndsWith("(index unreadable: scanned the entries instead); if its index is missing or out of date, "
            + $"rebuild it: depot index {mirror.Path}", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnIndexMissingADependencyNamesItAndHowToRebuildTheIndex()
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        // An index written while gcc-runtime's entry was away: it lists greet but not gcc-runtime.
        var runtime = Path.Combine(mirror.Path, "v3/manifests/spec/gcc-runtime");
        Directory.Move(runtime, Scratch.Combine("away"));
        Assert.Equal(0, (await RunAsync("index", mirror.Path, "--full")).Code);
        Directory.Move(Scratch.Combine("away"), runtime);
        var root = Scratch.Combine("root");

        var run = await RunAsync("install", "greet", "--from", mirror.Path, "--root", root, "--no-verify");

        Assert.True(run.Code == ExitCodes.NotFound, run.Err);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^depot: error: gcc-runtime/\w{7} is needed, but no mirror caches it and the target does not "
            + "have it; if its index is missing or out of date, rebuild it: depot index ", line);
        Assert.EndsWith("depot index " + mirror.Path, line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(root));

        Assert.Equal(0, (await RunAsync("index", mirror.Path)).Code);
        Assert.Equal(0, (await RunAsync("install", "greet", "--from", mirror.Path, "--root", root,
            "--no-verify")).Code);
    }

    [Fact]
    public async Task ATruncatedIndexBehindAWarmSummaryIsReportedAndTheEntriesListed()
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var warm = await RunAsync("list", mirror.Path);
        Assert.True(warm.Code == 0, warm.Err);
        var blob = IndexBlob(mirror.Path);
        File.WriteAllBytes(blob, File.ReadAllBytes(blob)[..100]);

        var run = await RunAsync("list", mirror.Path);

        Assert.True(run.Code == ExitCodes.CompletedWithProblems, run.Err);
        Assert.Equal(warm.Out, run.Out); // the entries, scanned, hold what the index listed
        var warning = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"depot: warning: {blob}: ", warning, StringComparison.Ordinal);
        Assert.EndsWith("(index unreadable: scanned the entries instead); if its index is missing or out of date, "
            + $"rebuild it: depot index {mirror.Path}", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("verify")]
    [InlineData("install")]
    public async Task ARegistryRepositoryThatDoesNotExistIsNotFoundNotAnEmptyCache(string verb)
    {
        var url = registry.Url("never/pushed" + Guid.NewGuid().ToString("N")[..8]);
        string[] args = verb == "install" ? ["install", "greet", "--from", url, "--root", Scratch.Combine("r")]
            : [verb, url];

        var run = await RunAsync(args);

        Assert.True(run.Code == ExitCodes.NotFound, $"exit {run.Code}: {run.Err}{run.Out}");
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"depot: error: {url}: the registry has no repository '{url[(url.IndexOf('/', 12) + 1)..]}' "
            + "(nothing was ever pushed there): check its name", line);
    }

    [Fact]
    public async Task APushToARegistryRepositoryThatDoesNotExistYetCreatesIt()
    {
        var url = registry.Url("first/push" + Guid.NewGuid().ToString("N")[..8]);
        var push = await RunAsync("push", url, "greet-data", "--unsigned", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.True(push.Code == 0, push.Err);
        var list = await RunAsync("list", url);
        Assert.True(list.Code == 0, list.Err);
        Assert.Contains("greet-data@1.0.0", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallRefusingAnUntrustedKeyOrAnUnsignedEntryGivesTheFix()
    {
        var signed = await RunAsync("install", "greet", "--from", TestData.Path(TestData.V2Signed), "--root",
            Scratch.Combine("a"));
        Assert.Equal(ExitCodes.Failed, signed.Code);
        Assert.Contains($"if you trust this key, run: depot keys trust {TestData.Path(TestData.V2Signed)} "
            + $"--fingerprint {SignatureTests.FixtureFingerprint}", signed.Err, StringComparison.Ordinal);

        using var unsigned = TestData.InstallableV3(TestData.V3Unsigned);
        var refused = await RunAsync("install", "greet", "--from", unsigned.Path, "--root", Scratch.Combine("b"));
        Assert.Equal(ExitCodes.Failed, refused.Code);
        Assert.Contains("not signed", refused.Err, StringComparison.Ordinal);
        Assert.Contains("pass --no-verify or set 'signed: false' for it in config.yaml", refused.Err,
            StringComparison.Ordinal);
    }
}
