using Depot.Operations;
using Depot.Tests.Operations;

namespace Depot.Tests.Cli;

/// <summary>
/// Each command resolves each mirror once: the configuration is loaded once, every mirror's store is opened once for
/// its purpose, and its layouts are detected at most once (counted through the engine's <see cref="MirrorAccess"/>).
/// </summary>
public sealed class MirrorOpenCountTests : CliTestBase
{
    private const string Tree12 = "spack-1.2/install-tree";

    [Fact]
    public async Task CopyOpensEachMirrorOnceAndDetectsEachLayoutOnce()
    {
        using var source = TestData.InstallableV3(TestData.V3Signed);
        Assert.Equal(0, (await RunAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"))).Code);
        Assert.Equal(0, (await RunAsync("mirror", "add", "src", source.Path)).Code);
        // A pinned fingerprint: the trust policy reads the mirror's published keys through its (once) detected layouts.
        Assert.Equal(0, (await RunAsync("keys", "trust", "src", "--fingerprint",
            Signing.SignatureTests.FixtureFingerprint)).Code);
        Assert.Contains(Signing.SignatureTests.FixtureFingerprint, File.ReadAllText(Path.Combine(Home.Path,
            "config.yaml")), StringComparison.Ordinal);
        var destination = Path.Combine(Scratch.Path, "copy");
        var counts = new CountingMirrorAccess();

        var (code, output, error) = await CliRun.RunAsync(Home.Path, counts.Access, "copy", "src", destination);

        Assert.True(code == 0, error + output);
        Assert.Contains("copied 5", output,
            StringComparison.Ordinal); // verified under src's trust, v3 -> v3 byte for byte
        Assert.Equal(1, counts.RegistryLoads);
        Assert.Equal(Sorted("read src=1", "write " + destination + "=1"),
            CountingMirrorAccess.Lines(counts.StoreOpens));
        Assert.Equal(Sorted(source.Path + "=1", destination + "=1"), CountingMirrorAccess.Lines(counts.Detections));
    }

    [Fact]
    public async Task CopyIntoAnAskedLayoutDoesNotDetectTheDestination()
    {
        using var source = TestData.InstallableV3(TestData.V3Unsigned);
        var destination = Path.Combine(Scratch.Path, "v2");
        var counts = new CountingMirrorAccess();

        var (code, output, error) = await CliRun.RunAsync(Home.Path, counts.Access, "copy", source.Path, destination,
            "--layout", "v2",
            "--unsigned", "--no-verify");

        Assert.True(code == 0, error + output);
        Assert.Contains("converted 5 (layout v2)", output, StringComparison.Ordinal);
        Assert.Equal(1, counts.RegistryLoads);
        Assert.Equal(Sorted("read " + source.Path + "=1", "write " + destination + "=1"),
            CountingMirrorAccess.Lines(counts.StoreOpens));
        Assert.Equal([source.Path + "=1"], CountingMirrorAccess.Lines(counts.Detections));
    }

    [Fact]
    public async Task PushOpensTheMirrorOnceAndDetectsItsLayoutOnce()
    {
        Assert.Equal(0, (await RunAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"))).Code);
        var mirror = Path.Combine(Scratch.Path, "pushed");
        foreach (var expected in new[] { "pushed 5", "skipped 5 existing" })
        {
            var counts = new CountingMirrorAccess();
            var (code, output, error) = await CliRun.RunAsync(Home.Path, counts.Access, "push", mirror, "--all",
                "--install-tree",
                TestData.Path(Tree12));

            Assert.True(code == 0, error + output);
            Assert.Contains(expected, output, StringComparison.Ordinal);
            Assert.Contains("key 6640D90F8A1E84DD1142614C06BD5C3F48A372CC published", output, StringComparison.Ordinal);
            Assert.Equal(1, counts.RegistryLoads);
            Assert.Equal(["write " + mirror + "=1"], CountingMirrorAccess.Lines(counts.StoreOpens));
            Assert.Equal([mirror + "=1"],
                CountingMirrorAccess.Lines(counts.Detections)); // new, then v3: the layout to keep
        }
    }

    [Fact]
    public async Task InstallOpensEachMirrorOnceAndDetectsEachLayoutOnce()
    {
        Assert.Equal(0, (await RunAsync("keys", "trust", TestData.Path("spack-1.2/keys/public.asc"))).Code);
        var first = TestData.Path(TestData.V2Signed);
        var second = TestData.Path(TestData.V3Signed);
        Assert.Equal(0, (await RunAsync("mirror", "add", "old", first)).Code);
        var root = Path.Combine(Scratch.Path, "sw");
        var counts = new CountingMirrorAccess();

        var (code, output, error) = await CliRun.RunAsync(Home.Path, counts.Access, "install", "/tnhxyee", "--from",
            "old", "--from", second,
            "--root", root);

        Assert.True(code == 0, error + output);
        Assert.Contains("installed 2, already present 0, failed 0", output, StringComparison.Ordinal);
        Assert.Equal(1, counts.RegistryLoads);
        Assert.Equal(Sorted("read old=1", "read " + second + "=1"), CountingMirrorAccess.Lines(counts.StoreOpens));
        Assert.Equal(Sorted(first + "=1", second + "=1"), CountingMirrorAccess.Lines(counts.Detections));
    }

    private static string[] Sorted(params string[] lines) => [.. lines.Order(StringComparer.Ordinal)];
}
