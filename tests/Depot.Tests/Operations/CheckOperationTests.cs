using Depot.Operations;
using Depot.Specs;
using Depot.Storage;
using Depot.Tests.Specs;

namespace Depot.Tests.Operations;

/// <summary><c>depot check</c>: closures from real lock files and install trees against the real fixture
/// caches.</summary>
public sealed class CheckOperationTests
{
    private const string Tree = "spack-1.2/install-tree";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Mirror Open(string mirror) => Mirror.Of(new LocalDirectoryStore(TestData.Path(mirror)));

    [Fact]
    public async Task ALockWhoseClosureTheCacheHoldsMissesNothing()
    {
        using var dir = new TempDir();
        var path = LockFiles.Write(dir.Path, LockFiles.FromInstallTree(Tree, 6, "greet", "greet-data"));
        var result = await CheckOperation.RunAsync(Open(TestData.V3Signed), new CheckOptions([], path), null, Token);
        Assert.Empty(result.Missing);
        // greet, libgreet, gcc-runtime (link) and greet-data; compiler-wrapper is a build dependency only.
        Assert.Equal((4, 4), (result.Present, result.Checked));
    }

    [Fact]
    public async Task WhatTheCacheLacksIsNamedWithTheSpecsThatNeedIt()
    {
        using var dir = new TempDir();
        var path = LockFiles.Write(dir.Path, LockFiles.FromInstallTree(Tree, 6, "greet", "libgreet"));
        var result = await CheckOperation.RunAsync(Open(TestData.V2Signed), new CheckOptions([], path), null, Token);
        Assert.Equal(["gcc-runtime", "greet", "libgreet"], result.Missing.Select(m => m.Name));
        Assert.Equal((0, 3), (result.Present, result.Checked));
        var libgreet = result.Missing.Single(m => m.Name == "libgreet");
        Assert.Equal(("1.0.0", "45qqyrdm2lgdwkith6pdxfyacbtymalw"), (libgreet.Version, libgreet.Hash));
        Assert.Equal(["greet@1.0.0 /ilccysm", "libgreet@1.0.0 /45qqyrd"], libgreet.NeededBy);
        Assert.Equal(["greet@1.0.0 /ilccysm"], result.Missing.Single(m => m.Name == "greet").NeededBy);
    }

    [Fact]
    public async Task OnlyTheSpecsNamedAreCheckedAndOnlyWhatIsMissingIsReported()
    {
        using var cache = TestData.Copy(TestData.V3Unsigned);
        File.Delete(Directory.EnumerateFiles(Path.Combine(cache.Path, "v3/manifests/spec/libgreet")).Single());
        await IndexOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(cache.Path)), new IndexOptions(), null,
            Token);
        using var dir = new TempDir();
        var path = LockFiles.Write(dir.Path, LockFiles.FromInstallTree(Tree, 5, "greet-data"));
        var result = await CheckOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(cache.Path)),
            new CheckOptions([SpecQuery.Parse("greet")], path), null, Token);
        var missing = Assert.Single(result.Missing);
        Assert.Equal("libgreet", missing.Name);
        Assert.Equal(["greet@1.0.0 /ilccysm"], missing.NeededBy);
        Assert.Equal((2, 3), (result.Present, result.Checked));
    }

    [Fact]
    public async Task WithoutALockSpecsAreResolvedInTheInstallTree()
    {
        var result = await CheckOperation.RunAsync(Open(TestData.V3Signed),
            new CheckOptions([SpecQuery.Parse("/ilccysm")], InstallTree: TestData.Path(Tree)), null, Token);
        Assert.Empty(result.Missing);
        Assert.Equal(3, result.Checked);
        Assert.Equal(TestData.Path(Tree), result.Source);
    }

    [Fact]
    public async Task AQueryMatchingNothingOrSeveralSpecsIsRefused()
    {
        using var dir = new TempDir();
        var path = LockFiles.Write(dir.Path, LockFiles.FromInstallTree(Tree, 6, "greet"));
        var none = await Assert.ThrowsAsync<DepotException>(() => CheckOperation.RunAsync(Open(TestData.V3Signed),
            new CheckOptions([SpecQuery.Parse("zlib")], path), null, Token));
        Assert.Equal(ErrorKind.NotFound, none.Kind);
        Assert.Contains("'zlib' matches no spec in " + path, none.Message, StringComparison.Ordinal);
        var several = await Assert.ThrowsAsync<DepotException>(() => CheckOperation.RunAsync(
            Open(TestData.V3Signed), new CheckOptions([SpecQuery.Parse("@1.0.0")], path), null, Token));
        Assert.Equal(ErrorKind.Usage, several.Kind);
    }
}
