using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Operations;
using Depot.Storage;
using Depot.Tests.Storage;

namespace Depot.Tests.Operations;

public class IndexOperationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private const string GreetManifest =
        "v3/manifests/spec/greet/greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug.spec.manifest.json";

    private static async Task<JsonNode> ReadIndexJsonAsync(string mirror)
    {
        var layout = (await BuildCache.DetectAsync(new LocalDirectoryStore(mirror), Token))[0];
        var index = await layout.ReadIndexAsync(Token);
        return JsonNode.Parse(index!.ToJsonBytes())!;
    }

    private static void RemoveIndex(string mirror)
    {
        foreach (var f in new[] { "build_cache/index.json", "build_cache/index.json.hash",
            "v3/manifests/index/index.manifest.json" })
        {
            if (File.Exists(Path.Combine(mirror, f)))
            {
                File.Delete(Path.Combine(mirror, f));
            }
        }
    }

    [Theory]
    [InlineData(TestData.V3Signed)]
    [InlineData(TestData.V3Unsigned)]
    [InlineData(TestData.V2Signed)]
    [InlineData(TestData.V2Unsigned)]
    public async Task AFullRebuildHasTheSameRecordsAsSpacksIndex(string mirror)
    {
        using var copy = TestData.Copy(mirror);
        var expected = await ReadIndexJsonAsync(copy.Path);
        RemoveIndex(copy.Path);

        var result = Assert.Single(await IndexOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(copy.Path)),
            new IndexOptions(), null, Token));

        Assert.True(result.FullRebuild);
        Assert.Empty(result.Problems);
        var actual = await ReadIndexJsonAsync(copy.Path);
        Assert.Equal(expected["database"]!["version"]!.GetValue<string>(),
            actual["database"]!["version"]!.GetValue<string>());
        var want = expected["database"]!["installs"]!.AsObject();
        var got = actual["database"]!["installs"]!.AsObject();
        Assert.Equal(want.Select(p => p.Key).Order(), got.Select(p => p.Key).Order());
        foreach (var (hash, record) in want)
        {
            Assert.True(JsonNode.DeepEquals(record, got[hash]), hash);
        }
    }

    [Fact]
    public async Task TheV2IndexHashFileMatchesTheIndex()
    {
        using var copy = TestData.Copy(TestData.V2Unsigned);
        RemoveIndex(copy.Path);
        await IndexOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(copy.Path)), new IndexOptions(), null, Token);
        var json = File.ReadAllBytes(copy.Combine("build_cache/index.json"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(json)),
            File.ReadAllText(copy.Combine("build_cache/index.json.hash")));
    }

    [Fact]
    public async Task ReindexingReadsOnlyNewEntriesAndDropsRemovedOnes()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        var aside = Path.Combine(copy.Path, "greet.manifest.aside");
        File.Move(copy.Combine(GreetManifest), aside);
        var store = new RecordingStore(new LocalDirectoryStore(copy.Path));

        var removed = Assert.Single(await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null, Token));
        Assert.Equal((4, 0, 4, 1, false),
            (removed.Specs, removed.Read, removed.Reused, removed.Removed, removed.FullRebuild));

        File.Move(aside, copy.Combine(GreetManifest));
        store.Opened.Clear();
        var added = Assert.Single(await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null, Token));
        Assert.Equal((5, 1, 4, 0), (added.Specs, added.Read, added.Reused, added.Removed));
        Assert.Single(store.Opened, k => k.StartsWith("v3/manifests/spec/", StringComparison.Ordinal));
        Assert.Equal(8, added.Records);

        var full = Assert.Single(await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true), null,
            Token));
        Assert.Equal((5, 5, 0), (full.Specs, full.Read, full.Reused));
    }

    [Fact]
    public async Task BadEntriesAreReportedAndSkipped()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        RemoveIndex(copy.Path);
        File.WriteAllText(copy.Combine(GreetManifest), "{\"version\":3,\"data\":[");

        var result = Assert.Single(await IndexOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(copy.Path)),
            new IndexOptions(), null, Token));

        Assert.Equal(4, result.Specs);
        var problem = Assert.Single(result.Problems);
        Assert.Contains(copy.Combine(GreetManifest), problem.Message, StringComparison.Ordinal);
        Assert.Contains("malformed JSON", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACrashWhileWritingKeepsThePreviousIndex()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        var before = File.ReadAllBytes(copy.Combine(BuildCacheV3.IndexManifestKey));
        File.Delete(copy.Combine(GreetManifest));
        var store = new RecordingStore(new LocalDirectoryStore(copy.Path))
        {
            FailWrite = k => k == BuildCacheV3.IndexManifestKey,
        };

        await Assert.ThrowsAsync<IOException>(() => IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null,
            Token));

        Assert.Equal(before, File.ReadAllBytes(copy.Combine(BuildCacheV3.IndexManifestKey)));
        var index = await new BuildCacheV3(new LocalDirectoryStore(copy.Path)).ReadIndexAsync(Token);
        Assert.Equal(5, index!.CachedSpecs.Count());
    }

    [Fact]
    public async Task AnUnreadablePreviousIndexMeansAFullRebuild()
    {
        using var copy = TestData.Copy(TestData.V2Signed);
        File.WriteAllText(copy.Combine("build_cache/index.json"),
            "{\"database\":{\"version\":\"42\",\"installs\":{}}}");

        var result = Assert.Single(await IndexOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(copy.Path)),
            new IndexOptions(), null, Token));

        Assert.True(result.FullRebuild);
        Assert.Equal(3, result.Read);
        Assert.Contains("unsupported index database version '42'", result.PreviousIndexIssue, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(copy.Combine("build_cache/index.json")));
        Assert.Equal("7", doc.RootElement.GetProperty("database").GetProperty("version").GetString());
    }

    [Fact]
    public async Task ProgressIsReportedForEveryEntryRead()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        RemoveIndex(copy.Path);
        var reports = new List<OperationProgress>();
        var progress = new SynchronousProgress(reports);
        await IndexOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(copy.Path)), new IndexOptions(), progress,
            Token);
        Assert.Equal(5, reports.Count);
        Assert.Contains(reports, r => r.Done == 5 && r.Total == 5);
    }

    private sealed class SynchronousProgress(List<OperationProgress> reports) : IProgress<OperationProgress>
    {
        public void Report(OperationProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }

    [Fact]
    public async Task IndexingKeepsTheListingSummaryInStep()
    {
        using var home = new TempDir();
        using var copy = TestData.Copy(TestData.V3Unsigned);
        var aside = Path.Combine(copy.Path, "greet.manifest.aside");
        File.Move(copy.Combine(GreetManifest), aside);
        var cache = new IndexCache(home.Path);
        var store = new LocalDirectoryStore(copy.Path);
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true, Cache: cache), null, Token);
        Assert.Single(Directory.EnumerateFiles(home.Path, "*.tsv"));

        File.Move(aside, copy.Combine(GreetManifest));
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Cache: cache), null, Token);

        var checksum = await new BuildCacheV3(store).ReadIndexChecksumAsync(Token);
        var rows = cache.TryRead(IndexCache.Key(store, 3, checksum!));
        Assert.NotNull(rows);
        Assert.Equal(5, rows.Count);
        var greet = rows.Single(r => r.Name == "greet");
        Assert.Equal(("%c=gcc@12.2.0", "linux-debian12-x86_64"), (greet.CompilerLabel, greet.Architecture));
    }

    [Fact]
    public async Task AnIncrementalIndexHasTheSameRecordsAsAFullRebuild()
    {
        using var home = new TempDir();
        using var copy = TestData.Copy(TestData.V3Unsigned);
        var aside = Path.Combine(copy.Path, "greet.manifest.aside");
        File.Move(copy.Combine(GreetManifest), aside);
        var store = new LocalDirectoryStore(copy.Path);
        var cache = new IndexCache(home.Path);
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true, Cache: cache), null, Token);
        Assert.Single(Directory.EnumerateFiles(home.Path, "*.table")); // the record table the next run starts from
        File.Move(aside, copy.Combine(GreetManifest));
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Cache: cache), null, Token);
        var incremental = (await new BuildCacheV3(store).ReadIndexBytesAsync(Token))!.Value.Json;

        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true), null, Token);
        var full = (await new BuildCacheV3(store).ReadIndexBytesAsync(Token))!.Value.Json;
        Assert.Equal(JsonNode.Parse(full)!["database"]!["installs"]!.AsObject().OrderBy(p => p.Key)
            .Select(p => p.Value!.ToJsonString()),
            JsonNode.Parse(incremental)!["database"]!["installs"]!.AsObject().OrderBy(p => p.Key)
                .Select(p => p.Value!.ToJsonString()));
    }
}
