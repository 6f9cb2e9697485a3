using System.Text.Json;
using Depot.Operations;
using Depot.Specs;
using Depot.Storage;
using Depot.Tests.Storage;

namespace Depot.Tests.Operations;

public class ListOperationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The hashes a mirror's own (Spack-written) index marks <c>in_buildcache</c>.</summary>
    internal static SortedSet<string> CachedHashesInIndex(string mirror)
    {
        var v2 = Path.Combine(mirror, "build_cache/index.json");
        string indexFile;
        if (File.Exists(v2))
        {
            indexFile = v2;
        }
        else
        {
            using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(mirror,
                "v3/manifests/index/index.manifest.json")));
            var checksum = manifest.RootElement.GetProperty("data")[0].GetProperty("checksum").GetString()!;
            indexFile = Path.Combine(mirror, "blobs/sha256", checksum[..2], checksum);
        }

        using var doc = JsonDocument.Parse(File.ReadAllBytes(indexFile));
        return new SortedSet<string>(doc.RootElement.GetProperty("database").GetProperty("installs").EnumerateObject()
            .Where(p => p.Value.GetProperty("in_buildcache").GetBoolean()).Select(p => p.Name), StringComparer.Ordinal);
    }

    [Theory]
    [InlineData(TestData.V3Signed, 5)]
    [InlineData(TestData.V3Unsigned, 5)]
    [InlineData(TestData.V2Signed, 3)]
    [InlineData(TestData.V2Unsigned, 3)]
    public async Task ListsExactlyTheSpecsTheCacheHolds(string mirror, int count)
    {
        var store = new LocalDirectoryStore(TestData.Path(mirror));
        var fromIndex = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([], NeedNodes: true), null,
            Token);
        var scanned = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([], Rescan: true), null, Token);

        var expected = CachedHashesInIndex(TestData.Path(mirror));
        Assert.Equal(count, expected.Count);
        Assert.Equal(expected, new SortedSet<string>(fromIndex.Rows.Select(s => s.Hash), StringComparer.Ordinal));
        Assert.Equal(expected, new SortedSet<string>(fromIndex.Specs.Select(s => s.Spec.Hash), StringComparer.Ordinal));
        Assert.Equal(expected, new SortedSet<string>(scanned.Rows.Select(s => s.Hash), StringComparer.Ordinal));
        Assert.True(fromIndex.FromIndex.Values.Single());
        Assert.False(scanned.FromIndex.Values.Single());
        Assert.Empty(fromIndex.Problems);
        Assert.DoesNotContain(fromIndex.Specs, s => s.Spec.IsExternal);
    }

    [Fact]
    public async Task ReadsOnlyTheIndexWhenThereIsOne()
    {
        var store = new RecordingStore(new LocalDirectoryStore(TestData.Path(TestData.V3Signed)));
        await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Equal(2, store.Opened.Count); // the index manifest and its blob
    }

    [Theory]
    [InlineData("greet", new[] { "greet" })]
    [InlineData("libgreet@1.0.0", new[] { "libgreet" })]
    [InlineData("/45qq", new[] { "libgreet" })]
    [InlineData("greet-data", new[] { "greet-data" })]
    [InlineData("nothing", new string[0])]
    public async Task QueriesSelectSpecs(string query, string[] names)
    {
        var store = new LocalDirectoryStore(TestData.Path(TestData.V3Signed));
        var result = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([SpecQuery.Parse(query)]), null,
            Token);
        Assert.Equal(names, result.Rows.Select(s => s.Name));
    }

    [Fact]
    public async Task ABrokenIndexFallsBackToScanningAndSaysSo()
    {
        using var copy = TestData.Copy(TestData.V2Signed);
        File.WriteAllText(copy.Combine("build_cache/index.json"), "{not json");
        var result = await ListOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(copy.Path)), new ListOptions([]),
            null, Token);
        Assert.Equal(3, result.Rows.Count);
        var problem = Assert.Single(result.Problems);
        Assert.Contains("index.json: malformed JSON", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASummaryKeyedByTheIndexChecksumServesLaterListings()
    {
        using var home = new TempDir();
        var cache = new IndexCache(home.Path);
        var store = new RecordingStore(new LocalDirectoryStore(TestData.Path(TestData.V3Signed)));
        var first = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([], Cache: cache), null, Token);
        Assert.Single(Directory.EnumerateFiles(home.Path, "*.tsv"));

        store.Opened.Clear();
        var second = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([SpecQuery.Parse("greet")],
            Cache: cache), null, Token);
        Assert.Equal(["v3/manifests/index/index.manifest.json"], store.Opened.Distinct());
        Assert.Equal(first.Rows.Where(r => r.Name == "greet"), second.Rows);
        Assert.Equal("%c=gcc@12.2.0", second.Rows[0].CompilerLabel);
        Assert.Equal("greet@1.0.0~loud build_system=makefile", second.Rows[0].VariantsText);
    }

    [Fact]
    public async Task AChangedIndexIsNeverServedFromAnOldSummary()
    {
        using var home = new TempDir();
        using var copy = TestData.Copy(TestData.V2Unsigned);
        var cache = new IndexCache(home.Path);
        var store = new LocalDirectoryStore(copy.Path);
        Assert.Equal(3, (await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([], Cache: cache), null,
            Token)).Rows.Count);

        File.Delete(Directory.EnumerateFiles(copy.Combine("build_cache"), "*greet-data*.spec.json").Single());
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null, Token);

        var after = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([], Cache: cache), null, Token);
        Assert.Equal(["greet", "libgreet"], after.Rows.Select(r => r.Name));
    }
}
