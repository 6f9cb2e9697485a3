using Depot.InstallTree;
using Depot.Specs;

namespace Depot.Tests.InstallTree;

public class PushSelectionTests
{
    private static async Task<InstallDatabase> Spack12Async() =>
        await InstallDatabase.ReadAsync(TestData.Path("spack-1.2/install-tree"),
            cancellationToken: TestContext.Current.CancellationToken);

    private static string[] Names(IEnumerable<InstallRecord> records) => records.Select(r => r.Spec.Name).ToArray();

    [Fact]
    public async Task AllPushesEveryInstalledSpecAndSkipsExternals()
    {
        var plan = PushSelection.Select(await Spack12Async(), [], all: true);
        Assert.Equal(["compiler-wrapper", "gcc-runtime", "greet", "greet-data", "libgreet"],
            Names(plan.ToPush).Order(StringComparer.Ordinal));
        Assert.True(Array.IndexOf(Names(plan.ToPush), "libgreet") < Array.IndexOf(Names(plan.ToPush), "greet"),
            "dependencies first");
        Assert.Equal(["gcc", "glibc", "gmake"], Names(plan.SkippedExternal).Order());
    }

    [Fact]
    public async Task ANamedSpecBringsItsLinkAndRunDependenciesFirst()
    {
        var plan = PushSelection.Select(await Spack12Async(), [SpecQuery.Parse("greet")], all: false);
        Assert.Equal("greet", plan.ToPush[^1].Spec.Name);
        Assert.Equal(["gcc-runtime", "greet", "libgreet"], Names(plan.ToPush).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(plan.ToPush, r => r.Spec.Name == "compiler-wrapper");
        Assert.True(Array.IndexOf(Names(plan.ToPush), "libgreet") < Array.IndexOf(Names(plan.ToPush), "greet"));
    }

    [Fact]
    public async Task BuildDependenciesOnlyOnRequest()
    {
        var plan = PushSelection.Select(await Spack12Async(), [SpecQuery.Parse("greet")], all: false,
            withBuildDependencies: true);
        Assert.Contains(plan.ToPush, r => r.Spec.Name == "compiler-wrapper");
        Assert.Contains(plan.SkippedExternal, r => r.Spec.Name == "gmake");
    }

    [Theory]
    [InlineData(PushParts.Package, new[] { "greet" })]
    [InlineData(PushParts.Dependencies, new[] { "gcc-runtime", "libgreet" })]
    public async Task OnlyPackageOrOnlyDependencies(PushParts parts, string[] expected)
    {
        var plan = PushSelection.Select(await Spack12Async(), [SpecQuery.Parse("/ilccysm")], all: false, parts);
        Assert.Equal(expected, Names(plan.ToPush).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AQueryThatMatchesNothingIsAnError()
    {
        var db = await Spack12Async();
        var e = Assert.Throws<DepotException>(() => PushSelection.Select(db, [SpecQuery.Parse("zlib")], all: false));
        Assert.Contains("'zlib' matches no installed spec", e.Message, StringComparison.Ordinal);
    }
}
