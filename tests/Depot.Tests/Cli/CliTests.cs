using Depot.Cli;

namespace Depot.Tests.Cli;

/// <summary>The CLI run in-process: output users see, exit codes, and one-line errors.</summary>
public sealed class CliTests : CliTestBase
{
    [Fact]
    public async Task ListPrintsLikeSpack021()
    {
        var (code, output, err) = await RunAsync("list", "-L", "-v", TestData.Path(TestData.V2Signed));
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Equal(
            """
            -- linux-debian12-x86_64 / gcc@12.2.0 ---------------------------
            tnhxyeebiakcjb3lvymiwx63ueuccyl6 greet@1.0.0~loud build_system=makefile
            zi66hh25uj52mbypxnkvycwkkbwphquj greet-data@1.0.0 build_system=generic
            ptuyzm5fjwahkoh6ynhlrwgegbywhubq libgreet@1.0.0 build_system=makefile

            """.ReplaceLineEndings("\n"), output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task ListGroupsSpack12SpecsByCompiler()
    {
        var (code, output, _) = await RunAsync("list", "-l", "file://" + TestData.Path(TestData.V3Signed));
        Assert.Equal(0, code);
        var lines = output.ReplaceLineEndings("\n").Split('\n');
        Assert.Equal("-- linux-debian12-x86_64 / %c=gcc@12.2.0 ------------------------", lines[0]);
        Assert.Equal(["ilccysm greet@1.0.0", "45qqyrd libgreet@1.0.0"], lines[1..3]);
        Assert.Contains("-- linux-debian12-x86_64 / no compilers -------------------------", lines);
        Assert.DoesNotContain(lines, l => l.Contains("glibc", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListJsonIsMachineReadable()
    {
        var (code, output, _) = await RunAsync("list", "--json", TestData.Path(TestData.V3Unsigned), "greet");
        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var spec = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal("ilccysmlleizqaxfvvqsb6selpnnszug", spec.GetProperty("hash").GetString());
        Assert.False(spec.GetProperty("variants").GetProperty("loud").GetBoolean());
        Assert.Equal(3, spec.GetProperty("layout").GetInt32());
    }

    [Fact]
    public async Task AQueryThatMatchesNothingFails()
    {
        var (code, _, err) = await RunAsync("list", TestData.Path(TestData.V3Unsigned), "zlib");
        Assert.Equal(ExitCodes.NotFound, code);
        Assert.Contains("no cached spec matches zlib", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IndexReportsWhatItDid()
    {
        using var copy = TestData.Copy(TestData.V2Unsigned);
        File.Delete(copy.Combine("build_cache/index.json"));
        var (code, output, _) = await RunAsync("index", copy.Path);
        Assert.Equal(0, code);
        Assert.Contains("layout v2: indexed 3 specs (4 records)", output, StringComparison.Ordinal);
        Assert.Contains("full rebuild", output, StringComparison.Ordinal);
        Assert.True(File.Exists(copy.Combine("build_cache/index.json")));
    }

    [Fact]
    public async Task SkippedEntriesGiveExitCodeThreeAndAWarningPerEntry()
    {
        using var copy = TestData.Copy(TestData.V2Unsigned);
        var bad = Directory.EnumerateFiles(copy.Combine("build_cache"), "*greet-data*.spec.json").Single();
        File.WriteAllText(bad, "{\"spec\":");
        File.Delete(copy.Combine("build_cache/index.json"));
        var (code, output, err) = await RunAsync("index", copy.Path);
        Assert.Equal(ExitCodes.CompletedWithProblems, code);
        Assert.Contains("indexed 2 specs", output, StringComparison.Ordinal);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: warning: skipped entry: " + bad + ": malformed JSON", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no build cache here")]
    public async Task UserErrorsAreOneLineWithoutAStackTrace(string expected)
    {
        using var empty = new TempDir();
        var (code, output, err) = await RunAsync("list", empty.Path);
        Assert.Equal(ExitCodes.NotFound, code);
        Assert.Equal("", output);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: error: " + empty.Path, line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACorruptIndexBlobIsReportedWhileListingStillWorks()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        var blob = copy.Combine("blobs/sha256/32/32be1bd8585e4ea587976f5efe946ee53720c8eb328c812071e6038d77252b48");
        File.AppendAllText(blob, " ");
        var (code, output, err) = await RunAsync("list", copy.Path);
        Assert.Equal(ExitCodes.CompletedWithProblems, code);
        Assert.Contains("greet@1.0.0", output, StringComparison.Ordinal);
        Assert.Contains(blob + ": checksum mismatch", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownOptionsAreUsageErrors()
    {
        var (code, _, err) = await RunAsync("list", "--frobnicate", TestData.Path(TestData.V3Unsigned));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("depot: error: unknown option '--frobnicate'; see 'depot list --help'\n", err);
    }
}
