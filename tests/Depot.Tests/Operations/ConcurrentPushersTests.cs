using System.Diagnostics;
using System.Text.Json.Nodes;
using Depot.Tests.InstallTree;
using Depot.Tests.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// The small version of bench/concurrency.sh: three <c>depot push</c> processes at once, each pushing its own five
/// specs and with them the two libraries all fifteen depend on, while <c>depot index</c> runs in a loop against the
/// same mirror. Afterwards, with no further index run, the index holds every spec, every entry verifies, and nothing
/// is left over (no orphan blob but replaced index blobs, no broken entry, no temporary).
/// </summary>
public abstract class ConcurrentPushersTests
{
    private const int Pushers = 3;
    private const int SpecsEach = 5;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The mirror argument the processes get.</summary>
    protected abstract string Mirror { get; }

    /// <summary>Variables every process of this store needs (credentials, endpoint).</summary>
    protected abstract IReadOnlyDictionary<string, string> Environment { get; }

    [Fact]
    public async Task ThreePushersAndARacingIndexLoseNothing()
    {
        using var tree = new TempDir();
        using var home = new TempDir();
        var builder = new InstallTreeBuilder(tree.Path);
        string[] shared =
        [
            builder.Add("shared-a", "1.0", p => PushOperationTests.WriteFile(p, "lib/a.txt", "a\n")),
            builder.Add("shared-b", "1.0", p => PushOperationTests.WriteFile(p, "lib/b.txt", "b\n")),
        ];
        var slices = new List<string>[Pushers];
        for (var i = 0; i < Pushers; i++)
        {
            slices[i] = [];
            for (var j = 0; j < SpecsEach; j++)
            {
                var n = i * SpecsEach + j;
                var dependencies = new List<(string, string[])> { (shared[n % 2], ["build", "link"]) };
                if (n % 3 == 0)
                {
                    dependencies.Add((shared[1 - (n % 2)], ["link"]));
                }

                slices[i].Add(builder.Add($"leaf{n:00}", "1.0",
                    p => PushOperationTests.WriteFile(p, "share/leaf.txt", $"leaf {n}\n"), dependencies));
            }
        }

        builder.WriteDatabase();
        var everything = shared.Concat(slices.SelectMany(s => s)).ToHashSet(StringComparer.Ordinal);

        var pushes = slices.Select((slice, i) => RunAsync(home.Path, $"pusher{i}",
            ["push", Mirror, .. slice.Select(h => "/" + h), "--install-tree", tree.Path, "--unsigned", "-j", "2"]))
            .ToList();
        var indexRuns = new List<(int Code, string Output)>();
        var racing = Task.Run(async () =>
        {
            while (!pushes.All(p => p.IsCompleted))
            {
                indexRuns.Add(await RunAsync(home.Path, "indexer", ["index", Mirror]));
            }
        }, Token);
        var results = await Task.WhenAll(pushes);
        await racing;

        Assert.All(results, r => Assert.True(r.Code == 0, r.Output));
        Assert.All(indexRuns, r => Assert.True(r.Code == 0 || r.Output.Contains("no build cache here",
            StringComparison.Ordinal), r.Output));
        var (listCode, listed) = await RunAsync(home.Path, "check", ["list", Mirror, "--json"]);
        Assert.Equal(0, listCode);
        var indexed = JsonNode.Parse(listed)!.AsArray().Select(s => (string)s!["hash"]!).ToHashSet();
        Assert.Equal(everything.Order(), indexed.Order());
        var (verifyCode, verified) = await RunAsync(home.Path, "check", ["verify", Mirror, "--no-verify"]);
        Assert.True(verifyCode == 0, verified);
        var (pruneCode, pruned) = await RunAsync(home.Path, "check", ["prune", Mirror, "--grace", "0s", "--json"]);
        Assert.True(pruneCode == 0, pruned);
        var leftovers = JsonNode.Parse(pruned)!["items"]!.AsArray()
            .Where(i => !(i!["reason"]!.ToString() == "orphan-blob" && IsIndexBlob(i["name"]!.ToString())))
            .Select(i => $"{i!["reason"]} {i["name"]}").ToList();
        Assert.Empty(leftovers);
        AssertNoTemporaries();
    }

    /// <summary>Fails if a writer's temporary object is left where the store keeps its objects.</summary>
    protected abstract void AssertNoTemporaries();

    /// <summary>Whether an orphan blob is an index a later index write replaced (kept for readers that fetched the old
    /// manifest; prune collects it after its grace period) rather than an entry's content.</summary>
    protected abstract bool IsIndexBlob(string key);

    private async Task<(int Code, string Output)> RunAsync(string home, string who, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "Depot.Cli.dll"),
            .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DEPOT_HOME"] = Path.Combine(home, who);
        foreach (var (name, value) in Environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Token);
        var error = process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        return (process.ExitCode, await output + await error);
    }
}

/// <summary>Three pushers at once on a directory mirror.</summary>
public sealed class DirectoryConcurrentPushersTests : ConcurrentPushersTests, IDisposable
{
    private readonly TempDir mirror = new();

    protected override string Mirror => mirror.Path;

    protected override IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>();

    protected override bool IsIndexBlob(string key) =>
        File.ReadAllText(Path.Combine(mirror.Path, key)).StartsWith("{\"database\"", StringComparison.Ordinal);

    protected override void AssertNoTemporaries() =>
        Assert.Empty(Directory.EnumerateFileSystemEntries(mirror.Path, ".depot-tmp*", SearchOption.AllDirectories));

    public void Dispose() => mirror.Dispose();
}

/// <summary>Three pushers at once on s3rver, whose conditional writes are not atomic (the index settles after each
/// write).</summary>
public sealed class S3ConcurrentPushersTests(S3rver server) : ConcurrentPushersTests, IClassFixture<S3rver>
{
    private readonly string prefix = "concurrent-" + Guid.NewGuid().ToString("N")[..8];

    protected override string Mirror => $"s3://{S3rver.Bucket}/{prefix}";

    protected override IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["AWS_ENDPOINT_URL"] = server.Endpoint,
        ["AWS_ACCESS_KEY_ID"] = "S3RVER",
        ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
        ["AWS_REGION"] = "us-east-1",
    };

    // s3rver keeps each object as a file under its data folder: <bucket>/<key>._S3rver_object.
    protected override bool IsIndexBlob(string key) =>
        File.ReadAllText(Path.Combine(server.DataFolder, S3rver.Bucket, prefix, key + "._S3rver_object"))
            .StartsWith("{\"database\"", StringComparison.Ordinal);

    // S3 stages outside the bucket (multipart uploads): no object may be a temporary.
    protected override void AssertNoTemporaries() =>
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(server.DataFolder, S3rver.Bucket), "*depot-tmp*",
            SearchOption.AllDirectories));
}
