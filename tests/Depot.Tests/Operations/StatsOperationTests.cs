using Depot.Operations;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary><c>depot stats</c> on the real fixture caches, checked against the files themselves.</summary>
public sealed class StatsOperationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Task<StatsResult> StatsAsync(string path, int top = 10) =>
        StatsOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(path)), new StatsOptions(top), null, Token);

    [Fact]
    public async Task AV2CacheIsCountedFromItsIndexAndOneListing()
    {
        using var cache = TestData.Copy(TestData.V2Signed);
        var entryFiles = Directory.EnumerateFiles(Path.Combine(cache.Path, "build_cache"), "*",
                SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".spack", StringComparison.Ordinal) || f.EndsWith(".sig", StringComparison.Ordinal))
            .ToList();
        var stamp = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        foreach (var (file, i) in entryFiles.Where(f => f.EndsWith(".sig", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal).Select((f, i) => (f, i)))
        {
            File.SetLastWriteTimeUtc(file, stamp.AddDays(i));
        }

        var layout = Assert.Single((await StatsAsync(cache.Path, top: 2)).Layouts);
        Assert.Equal(("v2", 3, 3, 3, true), (layout.Layout, layout.Specs, layout.Packages, layout.Entries,
            layout.FromIndex));
        Assert.Equal([new NamedCount("linux-debian12-x86_64", 3)], layout.Architectures);
        Assert.Equal([new NamedCount("gcc@12.2.0", 3)], layout.Compilers);
        var bytes = entryFiles.Sum(f => new FileInfo(f).Length);
        Assert.Equal((bytes, bytes), (layout.TotalBytes, layout.UniqueBytes));
        var tarballs = entryFiles.Where(f => f.EndsWith(".spack", StringComparison.Ordinal))
            .Select(f => new FileInfo(f).Length).OrderDescending().ToList();
        Assert.Equal(tarballs[..2], layout.Largest.Select(f => f.TarballBytes));
        Assert.Equal("greet", layout.Largest[0].Name);
        // Spec files sorted by name: greet-1.0.0, greet-data, libgreet.
        Assert.Equal(("greet", stamp), (layout.Oldest!.Name, layout.Oldest.LastModified!.Value.UtcDateTime));
        Assert.Equal(("libgreet", stamp.AddDays(2)), (layout.Newest!.Name,
            layout.Newest.LastModified!.Value.UtcDateTime));
    }

    [Fact]
    public async Task V3BlobsSharedByEntriesAreStoredOnceAndEntriesTheIndexLacksAreRead()
    {
        using var cache = TestData.Copy(TestData.V3Unsigned);
        var before = Assert.Single((await StatsAsync(cache.Path)).Layouts);
        Assert.Equal((5, 5, 5), (before.Specs, before.Packages, before.Entries));
        Assert.Equal(before.TotalBytes, before.UniqueBytes);
        Assert.Equal(["no compilers", "%c=gcc@12.2.0"], before.Compilers.Select(c => c.Name));

        // A second entry naming greet's blobs (its spec says another hash, so it cannot be read: a problem).
        var manifest = Directory.EnumerateFiles(Path.Combine(cache.Path, "v3/manifests/spec/greet")).Single();
        var copy = Path.Combine(Path.GetDirectoryName(manifest)!,
            "greet-1.0.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.spec.manifest.json");
        File.Copy(manifest, copy);
        var result = await StatsAsync(cache.Path);
        var after = Assert.Single(result.Layouts);
        var problem = Assert.Single(result.Problems);
        Assert.Contains("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", problem.Message, StringComparison.Ordinal);
        var greet = before.Largest.Single(f => f.Name == "greet");
        Assert.Equal(before.TotalBytes + greet.Bytes, after.TotalBytes);
        Assert.Equal(before.UniqueBytes + new FileInfo(copy).Length, after.UniqueBytes);
        Assert.Equal(6, after.Entries);
        Assert.Equal(5, after.Specs);
    }

    [Fact]
    public async Task BothLayoutsOfOneMirrorAreCountedApart()
    {
        using var cache = TestData.Copy(TestData.V3Unsigned);
        TestData.CopyTree(TestData.Path(TestData.V2Unsigned), cache.Path);
        var result = await StatsAsync(cache.Path, top: 0);
        Assert.Equal(["v3", "v2"], result.Layouts.Select(l => l.Layout));
        Assert.Equal([5, 3], result.Layouts.Select(l => l.Specs));
        Assert.All(result.Layouts, l => Assert.Empty(l.Largest));
    }
}
