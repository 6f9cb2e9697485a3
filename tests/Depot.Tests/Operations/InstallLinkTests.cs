using Depot.Operations;
using Depot.Signing;
using Depot.Storage;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Operations;

/// <summary>
/// Symlinks of a package end inside its own prefix or a dependency's: links into dependencies, absolute (relocated)
/// or relative, keep working; a link into another package of the same root that is not a dependency is refused.
/// </summary>
public sealed class InstallLinkTests : IDisposable
{
    private readonly TempDir temp = new();
    private readonly string mirror;
    private readonly string depHash;
    private readonly string appHash;
    private readonly string strayHash;

    public InstallLinkTests()
    {
        var builder = new InstallTreeBuilder(temp.Combine("build", "opt", "spack"));
        depHash = builder.Add("dep", "1.0", p => PushOperationTests.WriteFile(p, "share/dep.txt", "from dep\n"));
        var depPrefix = builder.Prefix("dep", "1.0", depHash);
        appHash = builder.Add("app", "1.0", p =>
        {
            PushOperationTests.WriteFile(p, "share/own.txt", "own\n");
            Directory.CreateDirectory(Path.Combine(p, "bin"));
            File.CreateSymbolicLink(Path.Combine(p, "bin/absolute"), depPrefix + "/share/dep.txt");
            File.CreateSymbolicLink(Path.Combine(p, "bin/relative"),
                Path.GetRelativePath(Path.Combine(p, "bin"), depPrefix + "/share/dep.txt"));
            File.CreateSymbolicLink(Path.Combine(p, "bin/own"), "../share/own.txt");
        }, [(depHash, ["build", "link"])]);
        strayHash = builder.Add("stray", "1.0", p =>
        {
            Directory.CreateDirectory(Path.Combine(p, "bin"));
            File.CreateSymbolicLink(Path.Combine(p, "bin/elsewhere"),
                Path.GetRelativePath(Path.Combine(p, "bin"), depPrefix + "/share/dep.txt"));
        });
        builder.WriteDatabase();
        mirror = temp.Combine("mirror");
        PushOperationTests.PushAsync(builder.Root, mirror, new PushOptions()).GetAwaiter().GetResult();
    }

    public void Dispose() => temp.Dispose();

    private Task<InstallResult> InstallAsync(string root, string query) =>
        InstallOperationTests.InstallAsync(Mirror.Of(new LocalDirectoryStore(mirror), TrustPolicy.None("m"),
            name: "m"), new PlainRootTarget(root), query);

    [Fact]
    public async Task LinksIntoADependencyAndIntoThePackageItselfKeepWorking()
    {
        var root = temp.Combine("root");
        var result = await InstallAsync(root, "app");
        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        var app = result.Outcomes.Single(o => o.Name == "app").Prefix!;
        var dep = result.Outcomes.Single(o => o.Name == "dep").Prefix!;
        Assert.Equal(dep + "/share/dep.txt", new FileInfo(Path.Combine(app, "bin/absolute")).LinkTarget);
        Assert.Equal("from dep\n", File.ReadAllText(Path.Combine(app, "bin/absolute")));
        Assert.Equal("from dep\n", File.ReadAllText(Path.Combine(app, "bin/relative")));
        Assert.Equal("own\n", File.ReadAllText(Path.Combine(app, "bin/own")));
        _ = appHash;
    }

    [Fact]
    public async Task ALinkIntoAPackageThatIsNotADependencyIsRefusedEvenWhenInstalled()
    {
        var root = temp.Combine("root");
        Assert.False((await InstallAsync(root, "dep")).AnyFailed);
        var before = Directory.EnumerateFileSystemEntries(root).Order(StringComparer.Ordinal).ToList();

        var result = await InstallAsync(root, "stray");
        var failed = Assert.Single(result.Outcomes, o => o.Status == InstallStatus.Failed);
        Assert.Equal(strayHash, failed.Hash);
        Assert.Contains($"symlink bin/elsewhere -> ../../dep-1.0-{depHash}/share/dep.txt points outside the packages "
            + "being installed", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(before, Directory.EnumerateFileSystemEntries(root).Order(StringComparer.Ordinal).ToList());
    }
}
