using System.Text.Json;

namespace Depot.Tests.Cli;

/// <summary>
/// Options of the CLI's verbs, each by what it changes: the same command is run with and without it and the
/// difference is asserted (an exit code of 0 alone proves nothing).
/// </summary>
public sealed class CliOptionTests : CliTestBase
{
    private const string Fixture = "6640D90F8A1E84DD1142614C06BD5C3F48A372CC";
    private static readonly string Spack12 = TestData.Path("spack-1.2/install-tree");

    private async Task<JsonElement> JsonAsync(params string[] args)
    {
        var (code, output, error) = await RunAsync([.. args, "--json"]);
        Assert.True(code == 0, $"depot {string.Join(' ', args)}: exit {code}: {error}{output}");
        using var document = JsonDocument.Parse(output);
        return document.RootElement.Clone();
    }

    private static int Count(JsonElement result, string status) =>
        result.GetProperty("counts").GetProperty(status).GetInt32();

    private async Task<string[]> ListedNamesAsync(string mirror, params string[] options)
    {
        var listed = await JsonAsync(["list", mirror, .. options]);
        return [.. listed.EnumerateArray().Select(s => s.GetProperty("name").GetString()!)
            .Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task PushForceRewritesWhatTheMirrorHoldsAndWithoutItSkipsIt()
    {
        var mirror = Scratch.Combine("m");
        Assert.Equal(1, Count(await JsonAsync("push", mirror, "greet-data", "--install-tree", Spack12, "-u"),
            "pushed"));

        var again = await JsonAsync("push", mirror, "greet-data", "--install-tree", Spack12, "-u");
        Assert.Equal((0, 1), (Count(again, "pushed"), Count(again, "skipped_exists")));
        var forced = await JsonAsync("push", mirror, "greet-data", "--install-tree", Spack12, "-u", "--force");
        Assert.Equal((1, 0), (Count(forced, "pushed"), Count(forced, "skipped_exists")));
    }

    [Fact]
    public async Task PushNoIndexLeavesTheIndexAsItWasAndListRescanSeesPastIt()
    {
        var mirror = Scratch.Combine("m");
        var indexed = await JsonAsync("push", mirror, "greet-data", "--install-tree", Spack12, "-u");
        Assert.Equal(JsonValueKind.Object, indexed.GetProperty("index").ValueKind);

        var unindexed = await JsonAsync("push", mirror, "libgreet", "--install-tree", Spack12, "-u", "--no-index");
        Assert.NotEqual(0, Count(unindexed, "pushed"));
        Assert.False(unindexed.TryGetProperty("index", out var none) && none.ValueKind != JsonValueKind.Null,
            "--no-index still reported an index update");

        // The index still names only the first push; reading every entry finds the second too.
        Assert.DoesNotContain("libgreet", await ListedNamesAsync(mirror));
        Assert.Contains("libgreet", await ListedNamesAsync(mirror, "--rescan"));
        Assert.Contains("greet-data", await ListedNamesAsync(mirror, "--rescan"));
    }

    [Fact]
    public async Task PushWithBuildDependenciesAlsoPushesThemAndWithoutItDoesNot()
    {
        var plain = Scratch.Combine("plain");
        await JsonAsync("push", plain, "greet", "--install-tree", Spack12, "-u");
        Assert.Equal(["gcc-runtime", "greet", "libgreet"], await ListedNamesAsync(plain));

        var withBuild = Scratch.Combine("with-build");
        await JsonAsync("push", withBuild, "greet", "--install-tree", Spack12, "-u", "--with-build-dependencies");
        Assert.Contains("compiler-wrapper", await ListedNamesAsync(withBuild));
    }

    [Fact]
    public async Task IndexFullReadsEveryEntryWhereTheDefaultReusesTheIndex()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        var incremental = (await JsonAsync("index", copy.Path)).GetProperty("layouts")[0];
        Assert.False(incremental.GetProperty("full_rebuild").GetBoolean());
        Assert.Equal(5, incremental.GetProperty("reused").GetInt32());
        var full = (await JsonAsync("index", copy.Path, "--full")).GetProperty("layouts")[0];
        Assert.True(full.GetProperty("full_rebuild").GetBoolean());
        Assert.Equal((5, 0), (full.GetProperty("read").GetInt32(), full.GetProperty("reused").GetInt32()));
    }

    [Fact]
    public async Task SignForceResignsAndNoPublishKeepsTheKeyOffTheMirror()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        await JsonAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"));
        var signed = await JsonAsync("sign", copy.Path, "--no-publish");
        Assert.Equal((5, 0), (signed.Int("signed"), signed.Int("already_signed")));
        var again = await JsonAsync("sign", copy.Path, "--no-publish");
        Assert.Equal((0, 5), (again.Int("signed"), again.Int("already_signed")));
        var forced = await JsonAsync("sign", copy.Path, "--no-publish", "--force");
        Assert.Equal(5, forced.GetProperty("signed").GetInt32());

        // Nothing published: another machine finds no key to trust on the mirror; after keys publish it does.
        using var other = new TempDir();
        var (code, _, error) = await CliRun.RunAsync(other.Path, "keys", "trust", copy.Path, "--all");
        Assert.NotEqual(0, code);
        Assert.Single(error.Trim().Split('\n'));

        var published = await JsonAsync("keys", "publish", copy.Path);
        Assert.Contains(Fixture, published.ToString(), StringComparison.Ordinal);
        var trusted = await CliRun.RunAsync(other.Path, "keys", "trust", copy.Path, "--all");
        Assert.True(trusted.Code == 0, trusted.Err);
        Assert.Contains("trusted " + Fixture, trusted.Out, StringComparison.Ordinal);
        var verified = await CliRun.RunAsync(other.Path, "verify", copy.Path, "greet");
        Assert.True(verified.Code == 0, verified.Err + verified.Out); // the forced signatures hold
    }

    [Fact]
    public async Task KeysPublishWritesToTheMirrorsPushUrl()
    {
        await JsonAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"));
        var fetch = Scratch.Combine("fetch");
        var push = Scratch.Combine("push");
        Directory.CreateDirectory(fetch);
        File.WriteAllText(Path.Combine(Home.Path, "config.yaml"),
            $"mirrors:\n  split:\n    url: {fetch}\n    push:\n      url: {push}\n");

        await JsonAsync("keys", "publish", "split");

        Assert.Empty(Directory.EnumerateFiles(fetch, "*", SearchOption.AllDirectories));
        Assert.Contains(Directory.EnumerateFiles(push, "*", SearchOption.AllDirectories),
            f => f.Contains(Fixture, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CopyForceCopiesEntriesTheDestinationHoldsAlready()
    {
        var source = Scratch.Combine("source");
        await JsonAsync("push", source, "greet", "--install-tree", Spack12, "-u");
        var destination = Scratch.Combine("dest");
        Assert.Equal(3, Count(await JsonAsync("copy", source, destination, "-u", "--no-verify"), "copied"));
        Assert.Equal(3, Count(await JsonAsync("copy", source, destination, "-u", "--no-verify"), "exists"));
        var forced = await JsonAsync("copy", source, destination, "-u", "--no-verify", "--force");
        Assert.Equal((3, 0), (Count(forced, "copied"), Count(forced, "exists")));
    }

    [Fact]
    public async Task MirrorSetUrlPointsTheNameElsewhere()
    {
        Assert.Equal(0, (await RunAsync("mirror", "add", "m", Scratch.Combine("nothing-yet"))).Code);
        Assert.Equal(0, (await RunAsync("mirror", "set", "m", "--url", TestData.Path(TestData.V3Unsigned))).Code);
        Assert.Contains("url: " + TestData.Path(TestData.V3Unsigned),
            File.ReadAllText(Path.Combine(Home.Path, "config.yaml")), StringComparison.Ordinal);
        Assert.Contains("greet", await ListedNamesAsync("m"));
    }

    [Theory]
    [InlineData("nope://somewhere/cache", "the 'nope' scheme is not supported")]
    [InlineData("gs://", "names no bucket")]
    public async Task MirrorSetWithABadUrlIsOneLineAndLeavesTheConfigAsItWas(string url, string problem)
    {
        Assert.Equal(0, (await RunAsync("mirror", "add", "m", TestData.Path(TestData.V3Unsigned))).Code);
        var config = Path.Combine(Home.Path, "config.yaml");
        var before = File.ReadAllText(config);

        var (code, output, error) = await RunAsync("mirror", "set", "m", "--url", url);

        Assert.NotEqual(0, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("depot: error: ", line, StringComparison.Ordinal);
        Assert.Contains(problem, line, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(config));
    }
}
