using Depot.Layout;
using Depot.Operations;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// An index updated after specs were added is spliced from the previous one (runs of unchanged records copied as
/// bytes) and is still the very bytes a full rebuild writes: over random DAGs, with added specs sorting anywhere among
/// the old ones, taking dependencies that later roots used to place, and becoming pushed specs where they were only
/// dependencies before.
/// </summary>
public class IndexSpliceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 12)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task AddedSpecsAreSplicedIntoTheBytesOfAFullRebuild(int seed)
    {
        var random = new Random(seed);
        var dag = new SyntheticDag(60, random);
        var pushed = Enumerable.Range(0, dag.Count).OrderBy(_ => random.Next()).Take(40).ToList();
        using var home = new TempDir();
        using var mirror = new TempDir();
        var cache = new IndexCache(home.Path);
        var store = new LocalDirectoryStore(mirror.Path);
        var layout = new BuildCacheV3(store);
        foreach (var i in pushed.Take(20))
        {
            dag.WriteEntry(mirror.Path, i);
        }

        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true, Cache: cache), null, Token);
        foreach (var batch in pushed.Skip(20).Chunk(1 + random.Next(8)))
        {
            foreach (var i in batch)
            {
                dag.WriteEntry(mirror.Path, i);
            }

            var result = (await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Cache: cache), null,
                Token)).Single();
            Assert.Equal(batch.Length, result.Read);
            Assert.Contains(result.Phases, p => p.Name == "compose (spliced)");
            var spliced = (await layout.ReadIndexBytesAsync(Token))!.Value.Json;

            await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true), null, Token);
            var full = (await layout.ReadIndexBytesAsync(Token))!.Value.Json;
            Assert.Equal(System.Text.Encoding.UTF8.GetString(full), System.Text.Encoding.UTF8.GetString(spliced));
        }
    }

    [Fact]
    public async Task ASpecAnOldRecordNamedAsMissingIsNotSplicedButStillMatchesAFullRebuild()
    {
        var random = new Random(7);
        var dag = new SyntheticDag(30, random);
        var top = Enumerable.Range(0, dag.Count).First(i => dag.Closure(i).Count >= 3);
        var missing = dag.Closure(top)[1]; // a direct dependency of top
        var other = Enumerable.Range(0, dag.Count).First(i => !dag.Closure(i).Contains(missing) && i != top);
        using var home = new TempDir();
        using var mirror = new TempDir();
        var cache = new IndexCache(home.Path);
        var store = new LocalDirectoryStore(mirror.Path);
        var layout = new BuildCacheV3(store);
        dag.WriteEntry(mirror.Path, top);
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true, Cache: cache), null, Token);

        // An index from elsewhere where top names a dependency it has no record of; Depot brings it up to date (not
        // spliced: no table of it) and keeps top's record as it was.
        var index = System.Text.Json.Nodes.JsonNode.Parse((await layout.ReadIndexBytesAsync(Token))!.Value.Json)!;
        Assert.True(index["database"]!["installs"]!.AsObject().Remove(dag.HashOf(missing)));
        await layout.WriteIndexBytesAsync(System.Text.Encoding.UTF8.GetBytes(index.ToJsonString()), Token);
        dag.WriteEntry(mirror.Path, other);
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Cache: cache), null, Token);

        // The missing dependency arrives: a full rebuild places it inside top's walk, so it is not spliced in.
        dag.WriteEntry(mirror.Path, missing);
        var result = (await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Cache: cache), null, Token))
            .Single();
        Assert.Equal(1, result.Read);
        Assert.Contains(result.Phases, p => p.Name == "compose");
        var incremental = (await layout.ReadIndexBytesAsync(Token))!.Value.Json;
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true), null, Token);
        var full = (await layout.ReadIndexBytesAsync(Token))!.Value.Json;
        Assert.Equal(System.Text.Encoding.UTF8.GetString(full), System.Text.Encoding.UTF8.GetString(incremental));
    }
}
