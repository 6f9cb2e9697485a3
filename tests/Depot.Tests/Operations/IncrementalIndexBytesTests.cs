using Depot.Layout;
using Depot.Operations;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// An index brought up to date from the cached record table of the previous run is the very bytes a full rebuild of
/// the same mirror writes (so its checksum, and every client's cached copy keyed by it, agree), for both layouts.
/// </summary>
public class IncrementalIndexBytesTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(TestData.V3Unsigned, "v3/manifests/spec/greet/greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug"
        + ".spec.manifest.json", 3)]
    [InlineData(TestData.V2Unsigned, "build_cache/linux-debian12-x86_64-gcc-12.2.0-greet-1.0.0-"
        + "tnhxyeebiakcjb3lvymiwx63ueuccyl6.spec.json", 2)]
    public async Task AnIncrementalIndexIsByteIdenticalToAFullRebuild(string fixture, string greetEntry, int version)
    {
        using var home = new TempDir();
        using var copy = TestData.Copy(fixture);
        var aside = Path.Combine(copy.Path, "greet.entry.aside");
        File.Move(copy.Combine(greetEntry), aside);
        var store = new LocalDirectoryStore(copy.Path);
        IBuildCacheLayout layout = version == 3 ? new BuildCacheV3(store) : new BuildCacheV2(store);
        var cache = new IndexCache(home.Path);
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true, Cache: cache), null, Token);
        var without = (await layout.ReadIndexBytesAsync(Token))!.Value.Json;
        Assert.Single(Directory.EnumerateFiles(home.Path, "*.table")); // what the incremental run starts from

        File.Move(aside, copy.Combine(greetEntry));
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Cache: cache), null, Token);
        var incremental = (await layout.ReadIndexBytesAsync(Token))!.Value.Json;
        Assert.NotEqual(without, incremental); // greet was added

        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true), null, Token);
        var full = (await layout.ReadIndexBytesAsync(Token))!.Value.Json;
        Assert.Equal(System.Text.Encoding.UTF8.GetString(full), System.Text.Encoding.UTF8.GetString(incremental));
    }
}
