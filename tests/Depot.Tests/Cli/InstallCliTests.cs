using Depot.Cli;
using System.Text.Json.Nodes;

namespace Depot.Tests.Cli;

/// <summary><c>depot install</c> and <c>depot env</c> as a user runs them.</summary>
public sealed class InstallCliTests : CliTestBase
{
    [Fact]
    public async Task InstallsFromATrustedMirrorReportsPhasesAndEnvPrintsShellLines()
    {
        Assert.Equal(0, (await RunAsync("keys", "trust", TestData.Path("spack-1.2/keys/public.asc"))).Code);
        var root = Path.Combine(Scratch.Path, "sw");
        var (code, output, err) = await RunAsync("install", "greet", "--from", TestData.Path(TestData.V2Signed),
            "--root", root);
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.Matches(@"installed greet@1\.0\.0 /tnhxyee -> .*/sw/greet-1\.0\.0-tnhxyee\w+  "
            + @"\(verify \d+ ms, fetch \d+ ms, extract \d+ ms, relocate \d+ ms\), "
            + @"signed by 6640D90F8A1E84DD1142614C06BD5C3F48A372CC", output);
        Assert.Contains("installed 2, already present 0, failed 0", output, StringComparison.Ordinal);

        var (envCode, env, _) = await RunAsync("env", "--root", root, "greet");
        Assert.Equal(0, envCode);
        Assert.Contains($"export PATH=\"{root}/greet-1.0.0-tnhxyeebiakcjb3lvymiwx63ueuccyl6/bin${{PATH:+:$PATH}}\"",
            env, StringComparison.Ordinal);
        Assert.Contains("export LD_LIBRARY_PATH=\"" + root + "/libgreet-1.0.0-", env, StringComparison.Ordinal);
        var (_, fish, _) = await RunAsync("env", "--root", root, "greet", "--shell", "fish");
        Assert.Contains("set -gx PATH \"" + root + "/greet-1.0.0-", fish, StringComparison.Ordinal);

        var (againCode, again, _) = await RunAsync("install", "greet", "--from", TestData.Path(TestData.V2Signed),
            "--root", root, "--json");
        Assert.Equal(0, againCode);
        Assert.All(JsonNode.Parse(again)!["specs"]!.AsArray().Where(s => (string)s!["name"]! != "gmake"),
            s => Assert.Equal("alreadyinstalled", (string)s!["status"]!));
    }

    [Fact]
    public async Task UnsignedCachesNeedNoVerifyAndUntrustedKeysAreRefused()
    {
        var root = Path.Combine(Scratch.Path, "sw");
        var (code, _, err) = await RunAsync("install", "greet-data", "--from", TestData.Path(TestData.V3Unsigned),
            "--root", root);
        Assert.Equal(1, code);
        Assert.Contains("not signed, and this mirror requires signatures", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any());

        var (untrustedCode, _, untrusted) = await RunAsync("install", "greet-data", "--from",
            TestData.Path(TestData.V3Signed), "--root", root);
        Assert.Equal(1, untrustedCode);
        Assert.Contains("not trusted", untrusted, StringComparison.Ordinal);

        Assert.Equal(0,
            (await RunAsync("install", "greet-data", "--from", TestData.Path(TestData.V3Unsigned), "--root", root,
                "--no-verify")).Code);
        Assert.True(File.Exists(Path.Combine(root,
            "greet-data-1.0.0-peahnwn7aa2lc5t6iese4dp7o7jjbnwu/share/greet-data/words.txt")));
    }

    [Theory]
    [InlineData(ExitCodes.NotFound, "matches nothing cached", "install", "zlib", "--from", "MIRROR", "--root", "ROOT")]
    [InlineData(ExitCodes.Usage, "--root and --install-tree exclude each other", "install", "greet", "--from", "MIRROR",
        "--root", "ROOT", "--install-tree", "ROOT")]
    [InlineData(ExitCodes.NotFound, "matches nothing installed", "env", "--root", "ROOT", "greet")]
    public async Task BadRequestsFailWithOneLine(int expectedCode, string message, params string[] args)
    {
        args = args.Select(a => a == "MIRROR" ? TestData.Path(TestData.V3Signed) : a == "ROOT"
            ? Path.Combine(Scratch.Path, "sw") : a).ToArray();
        var (code, output, err) = await RunAsync(args);
        Assert.Equal(expectedCode, code);
        Assert.Equal("", output);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailFastExitsOneWithOneErrorLineNamingTheBrokenEntryAndInstallsNothing()
    {
        // The committed v3 mirror lacks gcc-runtime's tarball; greet and libgreet link to it, greet-data does not.
        var root = Path.Combine(Scratch.Path, "sw");
        var (code, output, err) = await RunAsync("install", "greet", "greet-data", "--from",
            TestData.Path(TestData.V3Unsigned), "--root", root, "--no-verify", "--jobs", "1", "--fail-fast");
        Assert.Equal(ExitCodes.Failed, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("FAILED    gcc-runtime", line, StringComparison.Ordinal);
        Assert.Contains("/vkw5xvd", line, StringComparison.Ordinal);
        Assert.EndsWith("3ca324a3e79d81def85772fafce958af3bc2bcd97889f8683c001e11605f19cf: not found", line,
            StringComparison.Ordinal);
        Assert.Equal(3, output.Split('\n').Count(l => l.StartsWith("stopped   ", StringComparison.Ordinal)
            && l.EndsWith("not attempted (--fail-fast)", StringComparison.Ordinal)));
        Assert.Contains("installed 0, already present 0, failed 1", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any());
    }
}
