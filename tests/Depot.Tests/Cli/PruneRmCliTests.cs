using System.Text.Json;
using Depot.Cli;
using Depot.Tests.Operations;

namespace Depot.Tests.Cli;

/// <summary><c>depot prune</c> and <c>depot rm</c>: text, <c>--json</c>, exit codes, refusals.</summary>
public sealed class PruneRmCliTests : CliTestBase
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<(string Root, HashSet<string> Orphans)> PlantedMirrorAsync()
    {
        var root = Scratch.Combine("mirror");
        TestData.CopyTree(TestData.Path(TestData.V2Unsigned), root);
        var orphans = await PlantedOrphans.PlantV2Async(new Depot.Storage.LocalDirectoryStore(root));
        orphans.UnionWith(PlantedOrphans.PlantTemporaries(root));
        PlantedOrphans.Age(root, orphans, TimeSpan.FromHours(2));
        return (root, orphans);
    }

    [Fact]
    public async Task PruneIsADryRunPrintingOneLineEachAndATotalUntilYes()
    {
        var (root, orphans) = await PlantedMirrorAsync();

        var (code, output, error) = await RunAsync("prune", root);

        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal("", error);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal(6, lines.Length);
        Assert.All(lines[..^1], l => Assert.StartsWith("would remove ", l, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("would remove broken-entry ", StringComparison.Ordinal)
            && l.Contains("-greet-1.0.0/", StringComparison.Ordinal));
        Assert.Matches(@"^.*: 5 items \(5 objects\), [0-9.]+ (B|KiB) would be freed, [0-9.]+ s; --yes removes them$",
            lines[^1]);
        Assert.Empty(orphans.Except(PlantedOrphans.Files(root)));

        (code, output, _) = await RunAsync("prune", root, "--yes");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("5 items (5 objects)", output, StringComparison.Ordinal);
        Assert.Contains(" freed, ", output, StringComparison.Ordinal);
        Assert.Empty(PlantedOrphans.Files(root).Intersect(orphans));
        (code, _, _) = await RunAsync("verify", root, "--no-verify");
        Assert.Equal(ExitCodes.Success, code);
    }

    [Fact]
    public async Task PruneJsonHasEveryItemWithItsKeysAndTheTotals()
    {
        var (root, orphans) = await PlantedMirrorAsync();

        var (code, output, _) = await RunAsync("prune", root, "--json", "--keep-last", "5");

        Assert.Equal(ExitCodes.Success, code);
        using var doc = JsonDocument.Parse(output);
        var json = doc.RootElement;
        Assert.True(json.GetProperty("dry_run").GetBoolean());
        var items = json.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(5, json.GetProperty("count").GetInt32());
        Assert.Equal(orphans.Order(StringComparer.Ordinal), items.SelectMany(i => i.GetProperty("keys")
            .EnumerateArray().Select(k => k.GetString()!)).Order(StringComparer.Ordinal));
        Assert.Equal(items.Sum(i => i.GetProperty("bytes").GetInt64()), json.GetProperty("bytes").GetInt64());
        Assert.Equal(["broken-entry", "orphan-blob", "temporary", "unlisted-key"],
            items.Select(i => i.GetProperty("reason").GetString()).Distinct().Order(StringComparer.Ordinal));
        Assert.All(items, i => Assert.StartsWith(root, i.GetProperty("location").GetString(),
            StringComparison.Ordinal));
        Assert.Equal(0, json.GetProperty("problems").GetArrayLength());
    }

    [Fact]
    public async Task RmRefusesANeededDependencyInOneLineThenForceRemovesIt()
    {
        var root = Scratch.Combine("mirror");
        TestData.CopyTree(TestData.Path(TestData.V2Unsigned), root);

        var (code, output, error) = await RunAsync("rm", root, "libgreet");

        Assert.Equal(ExitCodes.Conflict, code);
        Assert.Equal("", output);
        Assert.Matches(@"^depot: error: libgreet@1\.0\.0/\w{7} is not removed: greet@1\.0\.0/\w{7}, which stays in .*, "
            + @"depends on it \(link/run\); --force removes it anyway\n$", error);

        (code, output, _) = await RunAsync("rm", root, "libgreet", "--force", "--json");
        Assert.Equal(ExitCodes.Success, code);
        using var doc = JsonDocument.Parse(output);
        Assert.False(doc.RootElement.GetProperty("dry_run").GetBoolean());
        var item = Assert.Single(doc.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("removed", item.GetProperty("reason").GetString());
        Assert.StartsWith("libgreet@1.0.0/", item.GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, doc.RootElement.GetProperty("indexed_layouts").GetInt32());
        (_, output, _) = await RunAsync("list", root);
        Assert.DoesNotContain("libgreet", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RmPrintsWhatGoesAndADryRunChangesNothing()
    {
        var root = Scratch.Combine("mirror");
        TestData.CopyTree(TestData.Path(TestData.V2Unsigned), root);
        var before = PlantedOrphans.Files(root);

        var (code, output, _) = await RunAsync("rm", root, "greet", "--dry-run");
        Assert.Equal(ExitCodes.Success, code);
        Assert.StartsWith("would remove greet@1.0.0/", output, StringComparison.Ordinal);
        Assert.Contains("run without --dry-run to remove them", output, StringComparison.Ordinal);
        Assert.Equal(before, PlantedOrphans.Files(root));

        (code, output, _) = await RunAsync("rm", root, "greet");
        Assert.Equal(ExitCodes.Success, code);
        Assert.StartsWith("removed greet@1.0.0/", output, StringComparison.Ordinal);
        (code, _, _) = await RunAsync("rm", root, "greet");
        Assert.Equal(ExitCodes.NotFound, code);
    }

    [Theory]
    [InlineData("--grace", "soon", "--grace 'soon': expected a whole number and a unit")]
    [InlineData("--older-than", "90", "--older-than '90': expected a whole number and a unit")]
    [InlineData("--keep-last", "0", "--keep-last takes a whole number from 1")]
    public async Task BadRetentionValuesAreUsageErrorsNamingTheOption(string option, string value, string message)
    {
        var root = Scratch.Combine("mirror");
        TestData.CopyTree(TestData.Path(TestData.V2Unsigned), root);

        var (code, _, error) = await RunAsync("prune", root, option, value);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeepFilesTakeLockFilesAndHashListsAndNeedARetentionRule()
    {
        var root = Scratch.Combine("mirror");
        TestData.CopyTree(TestData.Path(TestData.V2Unsigned), root);
        PlantedOrphans.Age(root, PlantedOrphans.Files(root), TimeSpan.FromDays(100));
        var list = Scratch.Combine("keep.txt");
        var (_, listing, _) = await RunAsync("list", root, "--json");
        using var listed = JsonDocument.Parse(listing);
        var greet = listed.RootElement.EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == "greet").GetProperty("hash").GetString()!;
        await File.WriteAllTextAsync(list, $"# kept\n/{greet}\n", Token);
        var lockFile = Scratch.Combine("spack.lock");
        await File.WriteAllTextAsync(lockFile, $"{{\"concrete_specs\": {{\"{greet}\": {{}}}}}}", Token);

        var (code, _, error) = await RunAsync("prune", root, "--keep", list);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--keep only protects entries from --keep-last or --older-than", error,
            StringComparison.Ordinal);

        foreach (var keep in new[] { list, lockFile })
        {
            string output;
            (code, output, _) = await RunAsync("prune", root, "--older-than", "90d", "--keep", keep, "--json");
            Assert.Equal(ExitCodes.Success, code);
            using var doc = JsonDocument.Parse(output);
            Assert.Equal(["greet-data@1.0.0"], doc.RootElement.GetProperty("items").EnumerateArray()
                .Select(i => i.GetProperty("name").GetString()![..^8]));
        }
    }
}
