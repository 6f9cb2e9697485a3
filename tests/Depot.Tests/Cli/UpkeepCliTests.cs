using System.Text.Json;
using Depot.Tests.Specs;

namespace Depot.Tests.Cli;

/// <summary><c>depot stats</c> and <c>depot check</c> as a CI pipeline runs them: exit codes, lines and JSON.</summary>
public sealed class UpkeepCliTests : CliTestBase
{
    private const string Tree = "spack-1.2/install-tree";

    [Fact]
    public async Task CheckExitsZeroWhenNothingIsMissing()
    {
        var lockPath = LockFiles.Write(Scratch.Path, LockFiles.FromInstallTree(Tree, 6, "greet"));
        var (code, output, err) = await RunAsync("check", TestData.Path(TestData.V3Signed), "--lock", lockPath);
        Assert.Equal(0, code);
        Assert.Equal("", output);
        Assert.Contains("3 of 3 specs present, 0 missing", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckNamesEachMissingSpecAndExitsOne()
    {
        var (code, output, _) = await RunAsync("check", TestData.Path(TestData.V2Signed), "greet",
            "--install-tree", TestData.Path(Tree));
        Assert.Equal(1, code);
        Assert.Equal(
            [
                "missing gcc-runtime@12.2.0 /vkw5xvdpe5yect3sehzv5inhyvrgavno (needed by greet@1.0.0 /ilccysm)",
                "missing greet@1.0.0 /ilccysmlleizqaxfvvqsb6selpnnszug (needed by greet@1.0.0 /ilccysm)",
                "missing libgreet@1.0.0 /45qqyrdm2lgdwkith6pdxfyacbtymalw (needed by greet@1.0.0 /ilccysm)",
            ], output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task CheckJsonListsMissingSpecsWithCounts()
    {
        var lockPath = LockFiles.Write(Scratch.Path, LockFiles.FromInstallTree(Tree, 6, "greet", "greet-data"));
        var (code, output, _) = await RunAsync("check", TestData.Path(TestData.V2Signed), "--lock", lockPath,
            "--json");
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal((0, 4), (root.GetProperty("present").GetInt32(), root.GetProperty("checked").GetInt32()));
        var missing = root.GetProperty("missing").EnumerateArray().ToList();
        Assert.Equal(4, missing.Count);
        var data = missing.Single(m => m.GetProperty("name").GetString() == "greet-data");
        Assert.Equal("1.0.0", data.GetProperty("version").GetString());
        Assert.Equal("peahnwn7aa2lc5t6iese4dp7o7jjbnwu", data.GetProperty("hash").GetString());
        Assert.Equal(["greet-data@1.0.0 /peahnwn"],
            data.GetProperty("needed_by").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task CheckRefusesABadLockFileInOneLine()
    {
        var lockPath = Path.Combine(Scratch.Path, "spack.lock");
        await File.WriteAllTextAsync(lockPath, "{\"_meta\": {\"lockfile-version\": 9}, \"roots\": []}",
            TestContext.Current.CancellationToken);
        var (code, _, err) = await RunAsync("check", TestData.Path(TestData.V3Signed), "--lock", lockPath);
        Assert.Equal(8, code);
        Assert.Equal($"depot: error: {lockPath}: field '_meta.lockfile-version' is 9: Depot reads lock files of "
            + "versions 4 to 6 (Spack 0.19 and later)", err.TrimEnd('\n'));
        var (usage, _, usageErr) = await RunAsync("check", TestData.Path(TestData.V3Signed));
        Assert.Equal(2, usage);
        Assert.Contains("name the specs to check", usageErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatsPrintsTextAndJson()
    {
        var (code, output, _) = await RunAsync("stats", TestData.Path(TestData.V2Unsigned), "--top", "1");
        Assert.Equal(0, code);
        Assert.Contains("(layout v2): 3 specs of 3 packages", output, StringComparison.Ordinal);
        Assert.Contains("architectures: linux-debian12-x86_64 (3)", output, StringComparison.Ordinal);
        Assert.Contains("greet@1.0.0 /tnhxyee", output, StringComparison.Ordinal);

        var (jsonCode, json, _) = await RunAsync("stats", TestData.Path(TestData.V3Unsigned), "--json");
        Assert.Equal(0, jsonCode);
        using var doc = JsonDocument.Parse(json);
        var layout = doc.RootElement.GetProperty("layouts").EnumerateArray().Single();
        Assert.Equal(("v3", 5), (layout.GetProperty("layout").GetString(), layout.GetProperty("specs").GetInt32()));
        Assert.True(layout.GetProperty("unique_bytes").GetInt64() > 0);
        Assert.Equal(5, layout.GetProperty("largest").GetArrayLength());
        Assert.Equal(JsonValueKind.Object, layout.GetProperty("newest").ValueKind);
    }

    [Fact]
    public async Task MigrateSaysWhatItDidThenThatThereIsNothingLeft()
    {
        using var cache = TestData.Copy(TestData.V2Unsigned);
        var (code, output, err) = await RunAsync("migrate", cache.Path, "--unsigned");
        Assert.True(code == 0, err);
        Assert.Contains("migrated greet@1.0.0 /tnhxyee", output, StringComparison.Ordinal);
        Assert.Contains($"{cache.Path}: migrated 3 entries to layout v3, skipped 0 already there, failed 0",
            output, StringComparison.Ordinal);
        Assert.Contains("index updated: 3 specs", output, StringComparison.Ordinal);

        var (again, againOut, _) = await RunAsync("migrate", cache.Path, "--unsigned");
        Assert.Equal(0, again);
        Assert.Equal($"{cache.Path}: nothing to migrate: all 3 entries are in layout v3 already, with their index",
            againOut.TrimEnd('\n'));

        var (deleted, json, _) = await RunAsync("migrate", cache.Path, "--unsigned", "--delete-old", "--json");
        Assert.Equal(0, deleted);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal((0, 3, 8), (doc.RootElement.GetProperty("migrated").GetInt32(),
            doc.RootElement.GetProperty("skipped").GetInt32(), doc.RootElement.GetProperty("deleted_old").GetInt32()));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(cache.Path, "build_cache"), "*",
            SearchOption.AllDirectories));
    }

    [Fact]
    public async Task MigrateRefusesUnsignedAndKeyTogether()
    {
        var (code, _, err) = await RunAsync("migrate", Scratch.Path, "--unsigned", "--key", "ABCD");
        Assert.Equal(2, code);
        Assert.Contains("--unsigned and --key contradict each other", err, StringComparison.Ordinal);
    }
}
