using System.Diagnostics;
using Depot.Catalog;
using Depot.Operations;
using Depot.Storage;
using Depot.Tests.Server;
using Depot.Tests.Serving;

namespace Depot.Tests.Catalog;

/// <summary>
/// Searching a cache's rows in memory: the terms (name prefix, name@version, /hash, variants, %compiler), filters and
/// facets, paging, speed over 20,000 rows, and that a push shows after the recheck interval (the index checksum read
/// again), not before.
/// </summary>
public class CatalogSearchTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TermsMatchByNamePrefixVersionHashAndVariant()
    {
        using var home = new TempDir();
        using var catalog = CacheCatalogTests.Catalog(TestData.Path(TestData.V3Unsigned), home.Path);

        async Task<string[]> Names(string text) =>
            (await catalog.SearchAsync(new CatalogQuery(text), Token)).Rows.Select(r => r.Name).ToArray();

        Assert.Equal(["compiler-wrapper", "gcc-runtime", "greet", "greet-data", "libgreet"], await Names(""));
        Assert.Equal(["greet", "greet-data"], await Names("gre"));
        Assert.Equal(["greet", "greet-data"], await Names("GRE"));
        Assert.Equal(["greet"], await Names("/" + CacheCatalogTests.GreetV3[..5]));
        Assert.Equal(["greet"], await Names("greet@1.0"));
        Assert.Empty(await Names("greet@2"));
        Assert.Equal(["greet"], await Names("gre build_system=makefile"));
        Assert.Empty(await Names("greet +nosuchvariant"));
        Assert.Equal(["greet", "libgreet"], await Names("%gcc")); // the others record no compiler
        var e = await Assert.ThrowsAsync<DepotException>(() => catalog.SearchAsync(new CatalogQuery("/abc1"), Token));
        Assert.Equal(ErrorKind.Usage, e.Kind);
    }

    [Fact]
    public async Task FiltersNarrowTheRowsWhileFacetsCountTheTextsMatches()
    {
        using var home = new TempDir();
        using var catalog = CacheCatalogTests.Catalog(TestData.Path(TestData.V3Unsigned), home.Path);

        var all = await catalog.SearchAsync(new CatalogQuery("", Limit: 2), Token);
        var none = await catalog.SearchAsync(new CatalogQuery("", Os: "ubuntu22.04"), Token);
        var some = await catalog.SearchAsync(new CatalogQuery("", Architecture: "linux-debian12-x86_64", Offset: 4),
            Token);

        Assert.Equal((5, 2), (all.Total, all.Rows.Count));
        var arch = Assert.Single(all.Architectures);
        Assert.Equal(new FacetValue("linux-debian12-x86_64", 5), arch);
        Assert.Equal(new FacetValue("debian12", 5), Assert.Single(all.Oses));
        Assert.NotEmpty(all.Compilers);
        Assert.Equal(0, none.Total);
        Assert.Equal(new FacetValue("debian12", 5), Assert.Single(none.Oses)); // facets ignore the filters
        Assert.Equal((5, "libgreet"), (some.Total, Assert.Single(some.Rows).Name));
        var row = all.Rows[0];
        Assert.Equal(("linux", "debian12", "x86_64"), (row.Platform, row.Os, row.Target));
        Assert.DoesNotContain("@", row.Variants, StringComparison.Ordinal);
    }

    [Fact]
    public void TwentyThousandSpecsAreSearchedWellUnderFiftyMilliseconds()
    {
        var rows = new List<ListingRow>();
        var random = new Random(19);
        string[] oses = ["ubuntu22.04", "rhel9", "debian12"];
        string[] targets = ["x86_64_v3", "aarch64", "zen4"];
        for (var i = 0; i < 20_000; i++)
        {
            var name = $"pkg{i % 2000:D4}";
            var hash = new string(Enumerable.Range(0, 32).Select(_ => "abcdefghijklmnopqrstuvwxyz234567"[
                random.Next(32)]).ToArray());
            var version = $"{i / 2000}.{i % 7}";
            rows.Add(new ListingRow(hash, name, version, "builtin",
                $"linux-{oses[i % 3]}-{targets[i % 5 % 3]}", $"gcc@{11 + i % 3}.2.0",
                $"{name}@{version}{(i % 2 == 0 ? "+mpi" : "~mpi")}~shared build_system=cmake", 3));
        }

        var table = CatalogRows.From(rows);
        string[] queries = ["", "pkg1", "pkg0042", "pkg0042@3", "+mpi", "pkg1 +mpi ~shared", "/ab", "zzz",
            "build_system=cmake", "%gcc@12"];
        var times = new List<double>();
        for (var round = 0; round < 20; round++)
        {
            foreach (var q in queries)
            {
                var clock = Stopwatch.StartNew();
                var result = table.Search(new CatalogQuery(q, Os: round % 2 == 0 ? null : "rhel9"));
                times.Add(clock.Elapsed.TotalMilliseconds);
                Assert.True(result.Total <= 20_000);
            }
        }

        // The target is 50 ms at the p95 (a few ms on a quiet machine); the bound is generous for a shared, loaded one.
        times.Sort();
        var p95 = times[(int)(times.Count * 0.95)];
        Assert.True(p95 < 200, $"p95 {p95:0.0} ms over {times.Count} searches of 20,000 rows");
        Assert.Equal(20_000, table.Search(new CatalogQuery("")).Total);
        Assert.Equal(10, table.Search(new CatalogQuery("pkg0042")).Total);
        Assert.Equal(2000, table.Packages.Count);
    }

    [Fact]
    public async Task APushShowsAfterTheRecheckIntervalAndNotBefore()
    {
        using var home = new TempDir();
        using var mirror = new TempDir();
        var clock = new ManualClock();
        SyntheticMirror.Write(mirror.Path, "1", 3);
        var store = new LocalDirectoryStore(mirror.Path);
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null, Token);
        using var catalog = CacheCatalogTests.Catalog(mirror.Path, home.Path, clock: clock);
        Assert.Equal(3, (await catalog.GetSummaryAsync(Token)).Specs);

        SyntheticMirror.Write(mirror.Path, "2", 2);
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null, Token);
        clock.Now += TimeSpan.FromSeconds(4);
        Assert.Equal(3, (await catalog.SearchAsync(new CatalogQuery("greet-data"), Token)).Total);
        clock.Now += TimeSpan.FromSeconds(2);
        Assert.Equal(5, (await catalog.SearchAsync(new CatalogQuery("greet-data"), Token)).Total);
        Assert.Equal(2, (await catalog.SearchAsync(new CatalogQuery("greet-data@2"), Token)).Total);
    }

    [Fact]
    public async Task AnEmptyMirrorIsAnEmptyCatalogUntilItsFirstPush()
    {
        using var home = new TempDir();
        using var mirror = new TempDir();
        var clock = new ManualClock();
        using var catalog = CacheCatalogTests.Catalog(mirror.Path, home.Path, clock: clock);

        var empty = await catalog.GetSummaryAsync(Token);
        Assert.Equal((0, 0), (empty.Specs, empty.Packages));
        Assert.Empty(empty.Layouts);

        SyntheticMirror.Write(mirror.Path, "1", 2);
        await IndexOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)), new IndexOptions(), null,
            Token);
        clock.Now += TimeSpan.FromSeconds(6);
        Assert.Equal(2, (await catalog.GetSummaryAsync(Token)).Specs);
    }

    [Theory]
    [InlineData("greet@1.0.0+mpi~shared build_system=cmake", "+mpi|~shared|build_system=cmake")]
    [InlineData("greet@1.0.0 cflags=-O2+mpi languages:=c,cxx", "cflags=-O2|+mpi|languages:=c,cxx")]
    [InlineData("greet@1.0.0 cflags='-O2 -g'~shared", "cflags='-O2 -g'|~shared")]
    [InlineData("greet@1.0.0 cxxflags=-std=c++17 build_system=cmake", "cxxflags=-std=c++17|build_system=cmake")]
    [InlineData("greet@1.0.0", "")]
    public void VariantTextSplitsIntoWords(string text, string words) =>
        Assert.Equal(words, string.Join('|', VariantText.Words(text, "greet@1.0.0")));

    [Theory]
    [InlineData("1.10", "1.9")]
    [InlineData("2.0", "1.99.9")]
    [InlineData("develop", "99.0")]
    [InlineData("1.2.1", "1.2")]
    public void NewerVersionsSortFirst(string newer, string older) =>
        Assert.True(VersionOrder.Instance.Compare(newer, older) > 0);
}
