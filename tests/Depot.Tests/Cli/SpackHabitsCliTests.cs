using System.Text.Json;
using Depot.Cli;

namespace Depot.Tests.Cli;

/// <summary>
/// Spack's habits (issue 17, item 6): <c>list -a</c>, <c>install -u</c> / <c>--unsigned</c> /
/// <c>--no-check-signature</c> (Spack's names for installing without checking signatures), and <c>depot list</c>
/// with no mirror listing every configured one (Depot's config.yaml and Spack's mirrors.yaml), as <c>spack
/// buildcache list</c> does.
/// </summary>
public sealed class SpackHabitsCliTests : CliTestBase
{
    private static string V3 => TestData.Path(TestData.V3Unsigned);

    private static string V2 => TestData.Path(TestData.V2Unsigned);

    [Fact]
    public async Task ListAllarchIsAcceptedAndChangesNothing()
    {
        var plain = await RunAsync("list", V3, "-L");
        var shortFlag = await RunAsync("list", V3, "-L", "-a");
        var longFlag = await RunAsync("list", V3, "--allarch", "-L");

        Assert.Equal(0, plain.Code);
        Assert.Contains("greet@1.0.0", plain.Out, StringComparison.Ordinal);
        Assert.Equal((0, plain.Out), (shortFlag.Code, shortFlag.Out));
        Assert.Equal((0, plain.Out), (longFlag.Code, longFlag.Out));
    }

    [Theory]
    [InlineData("-u")]
    [InlineData("--unsigned")]
    [InlineData("--no-check-signature")]
    [InlineData("--no-verify")]
    public async Task SpacksNamesForInstallingWithoutCheckingSignaturesInstallAnUnsignedCache(string flag)
    {
        var refused = await RunAsync("install", "greet-data", "--from", V3, "--root", Scratch.Combine("no"));
        Assert.Equal(ExitCodes.Failed, refused.Code);
        Assert.Contains("not signed", refused.Err, StringComparison.Ordinal);

        var root = Scratch.Combine("sw");
        var (code, _, error) = await RunAsync("install", "greet-data", "--from", V3, "--root", root, flag);

        Assert.True(code == 0, error);
        Assert.True(File.Exists(Path.Combine(root,
            "greet-data-1.0.0-peahnwn7aa2lc5t6iese4dp7o7jjbnwu/share/greet-data/words.txt")));
    }

    /// <summary>Depot's config names one mirror, Spack's user mirrors.yaml another: both are listed.</summary>
    private void ConfigureTwoMirrors(string? broken = null)
    {
        File.WriteAllText(Path.Combine(Home.Path, "config.yaml"),
            $"mirrors:\n  depot-v3:\n    url: {V3}\n" + (broken is null ? "" : $"  broken:\n    url: {broken}\n"));
        var spack = Scratch.Combine("spack-user");
        Directory.CreateDirectory(spack);
        File.WriteAllText(Path.Combine(spack, "mirrors.yaml"), $"mirrors:\n  spack-v2: {V2}\n");
        Variables["SPACK_USER_CONFIG_PATH"] = spack;
    }

    [Fact]
    public async Task ListWithNoMirrorListsEveryConfiguredMirrorDepotsAndSpacks()
    {
        ConfigureTwoMirrors();

        var (code, output, error) = await RunAsync("list", "--json");

        Assert.True(code == 0, error);
        using var document = JsonDocument.Parse(output);
        var specs = document.RootElement.EnumerateArray().ToList();
        Assert.Contains(specs, s => s.Str("name") == "greet" && s.Str("mirror") == "depot-v3");
        Assert.Contains(specs, s => s.Str("name") == "greet" && s.Str("mirror") == "spack-v2");
        Assert.Equal(specs.Count, specs.Select(s => s.Str("hash")).Distinct().Count());

        var text = await RunAsync("list", "-l");
        Assert.Equal(0, text.Code);
        foreach (var spec in specs)
        {
            Assert.Contains($"{spec.Str("hash")![..7]} {spec.Str("name")}@{spec.Str("version")}", text.Out,
                StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ListWithOnlyAQuerySearchesEveryConfiguredMirror()
    {
        ConfigureTwoMirrors();

        var (code, output, error) = await RunAsync("list", "greet-data", "--json");

        Assert.True(code == 0, error);
        using var document = JsonDocument.Parse(output);
        var found = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, found.Count);
        Assert.All(found, s => Assert.Equal("greet-data", s.Str("name")));
        Assert.Equal(["depot-v3", "spack-v2"],
            found.Select(s => s.Str("mirror")!).Order(StringComparer.Ordinal).ToArray());

        var none = await RunAsync("list", "zlib");
        Assert.Equal(ExitCodes.NotFound, none.Code);
        Assert.Contains("no cached spec matches zlib", none.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMirrorThatCannotBeListedIsOneWarningAndTheOthersAreStillListed()
    {
        var empty = Scratch.Combine("empty");
        Directory.CreateDirectory(empty);
        ConfigureTwoMirrors(broken: empty);

        var (code, output, error) = await RunAsync("list");

        Assert.Equal(ExitCodes.CompletedWithProblems, code);
        Assert.Contains("greet@1.0.0", output, StringComparison.Ordinal);
        var warning = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: warning: mirror 'broken' not listed: ", warning, StringComparison.Ordinal);
        Assert.Contains(empty, warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListWithNoMirrorAndNoneConfiguredSaysHowToNameOrAddOne()
    {
        var (code, output, error) = await RunAsync("list");

        Assert.Equal((ExitCodes.Usage, ""), (code, output));
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: error: no mirror is configured", line, StringComparison.Ordinal);
        Assert.Contains("depot mirror add NAME URL", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANamedMirrorIsStillListedAloneAndAMissingDirectoryStillSaysSo()
    {
        ConfigureTwoMirrors();
        var named = await RunAsync("list", "spack-v2", "--json");
        Assert.Equal(0, named.Code);
        using var document = JsonDocument.Parse(named.Out);
        Assert.All(document.RootElement.EnumerateArray(), s => Assert.False(s.TryGetProperty("mirror", out _)));

        var missing = await RunAsync("list", Scratch.Combine("no", "such", "dir"));
        Assert.NotEqual(0, missing.Code);
        Assert.Contains(Scratch.Combine("no", "such", "dir"), missing.Err, StringComparison.Ordinal);
    }
}
