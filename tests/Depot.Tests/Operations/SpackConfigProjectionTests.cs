using Depot.InstallTree;
using Depot.Operations;
using static Depot.Tests.Operations.InstallOperationTests;

namespace Depot.Tests.Operations;

/// <summary>
/// A Spack tree's projections from its checkout's <c>etc/spack/config.yaml</c> (<c>install_tree: projections:</c>):
/// the projection named for a package wins over <c>all</c>, as Spack picks them, and the database records those
/// prefixes; a key Depot cannot evaluate is refused rather than ignored.
/// </summary>
public sealed class SpackConfigProjectionTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string SpackRootWith(string projections)
    {
        var spackRoot = temp.Combine("spack");
        Directory.CreateDirectory(Path.Combine(spackRoot, "etc", "spack"));
        File.WriteAllText(Path.Combine(spackRoot, "etc", "spack", "config.yaml"),
            "config:\n  install_tree:\n    root: $spack/opt/spack\n    projections:\n" + projections);
        return spackRoot;
    }

    [Fact]
    public async Task APackagesOwnProjectionWinsOverAllAndTheDatabaseRecordsIt()
    {
        var spackRoot = SpackRootWith("      libgreet: 'libs/{name}-{hash:7}'\n      all: '{name}/{version}-{hash}'\n");
        var tree = temp.Combine("tree");
        using var mirror = TestData.InstallableV3(TestData.V3Signed);

        var result = await InstallAsync(Source(mirror.Path, signed: true),
            new SpackTreeTarget(tree, SpackRoot: spackRoot), "greet");

        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        var greet = result.Outcomes.Single(o => o.Name == "greet");
        var libgreet = result.Outcomes.Single(o => o.Name == "libgreet");
        Assert.Equal(Path.Combine(tree, "greet", "1.0.0-" + greet.Hash), greet.Prefix);
        Assert.Equal(Path.Combine(tree, "libs", "libgreet-" + libgreet.Hash[..7]), libgreet.Prefix);
        var db = await InstallDatabase.ReadAsync(tree, cancellationToken: Token);
        Assert.Equal(libgreet.Prefix, db.Find(libgreet.Hash)!.Path);
        Assert.Equal("Hello, world.", Run(Path.Combine(greet.Prefix!, "bin/greet"))); // found its relocated library
    }

    [Fact]
    public async Task AnExplicitProjectionWinsOverTheConfig()
    {
        var spackRoot = SpackRootWith("      all: '{name}/{version}-{hash}'\n");
        var tree = temp.Combine("tree");
        using var mirror = TestData.InstallableV3(TestData.V3Signed);

        var result = await InstallAsync(Source(mirror.Path, signed: true),
            new SpackTreeTarget(tree, Projection: "x/{name}-{hash}", SpackRoot: spackRoot), "greet");

        Assert.False(result.AnyFailed);
        var installed = result.Outcomes.Where(o => o.Status == InstallStatus.Installed).ToList();
        Assert.Equal(3, installed.Count); // greet, libgreet, gcc-runtime (glibc is external)
        Assert.All(installed, o => Assert.Equal(Path.Combine(tree, "x", o.Name + "-" + o.Hash), o.Prefix));
    }

    [Fact]
    public async Task AProjectionKeyThatIsASpecConstraintIsRefused()
    {
        var spackRoot = SpackRootWith("      ^mpi: '{name}-mpi/{hash}'\n      all: '{name}/{hash}'\n");
        using var mirror = TestData.InstallableV3(TestData.V3Signed);

        var e = await Assert.ThrowsAsync<DepotException>(() => InstallAsync(Source(mirror.Path, signed: true),
            new SpackTreeTarget(temp.Combine("tree"), SpackRoot: spackRoot), "greet"));

        Assert.Equal(ErrorKind.Unsupported, e.Kind);
        Assert.Contains("install_tree projection for '^mpi'", e.Message, StringComparison.Ordinal);
    }
}
