using System.Text;
using CsCheck;
using Depot.Configuration;
using Depot.InstallTree;

namespace Depot.Tests.Configuration;

/// <summary>
/// Hostile YAML: Depot's <c>config.yaml</c> (<see cref="DepotConfig"/>), Spack's <c>mirrors.yaml</c>
/// (<see cref="SpackMirrors.Read"/>) and Spack's <c>config.yaml</c> (<see cref="Projection.FromSpackConfig"/>), mutated
/// from real and crafted files or generated, read from disk as the commands read them: only Depot's own errors may come
/// out, with one-line messages.
/// </summary>
public sealed class ConfigYamlFuzzTests
{
    private static readonly string[] Keys =
    [
        "mirrors", "url", "fetch", "push", "access_pair", "id", "secret", "id_variable", "secret_variable", "signed",
        "binary", "source", "profile", "endpoint_url", "access_token_variable", "config", "install_tree", "root",
        "projections", "all", "padded_length", "&a", "*a", "<<", "!!binary", "? ", "- ", "{", "[", "~", "null",
    ];

    /// <summary>Indented YAML of known keys with scalars, lists, anchors and aliases in any place.</summary>
    private static readonly Gen<byte[]> YamlLike =
        Gen.Select(Gen.Int[0, Keys.Length - 1], Gen.Int[0, 6], Gen.Int[0, Keys.Length - 1]).Array[1, 25]
            .Select(lines => Encoding.UTF8.GetBytes(string.Join('\n', lines.Select(l =>
                new string(' ', l.Item2 * 2) + Keys[l.Item1] + ": " + Keys[l.Item3]))));

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void DepotConfigsLoadOrFailWithDepotsOwnError()
    {
        using var home = new TempDir();
        var path = home.Combine("config.yaml");
        FuzzLoop.Run("yaml-config", input =>
        {
            File.WriteAllBytes(path, input);
            var config = DepotConfig.LoadTolerant(path);
            Assert.All(config.Broken.Values, e => Assert.DoesNotContain('\n', e.Message));
            DepotConfig.Load(path);
            Projection.FromSpackConfig(path);
        }, iterations: 1500, YamlLike);
    }

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void SpackMirrorFilesReadOrFailWithDepotsOwnError()
    {
        using var home = new TempDir();
        var path = home.Combine("mirrors.yaml");
        FuzzLoop.Run("yaml-mirrors", input =>
        {
            File.WriteAllBytes(path, input);
            SpackMirrors.Read(path);
        }, iterations: 1500, YamlLike);
    }

    [Theory]
    [InlineData("[")]
    [InlineData("{a: ")]
    [InlineData("- ")]
    public void AYamlNestingBombIsRefusedQuicklyWithoutOverflowingTheStack(string opener)
    {
        using var home = new TempDir();
        var path = home.Combine("mirrors.yaml");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat(opener, 100_000)) + "x\n");
        var readers = new Action[]
        {
            () => DepotConfig.LoadTolerant(path),
            () => SpackMirrors.Read(path),
            () => Projection.FromSpackConfig(path),
            () => Depot.Archive.BuildInfo.Parse(File.ReadAllBytes(path), "binary_distribution"),
        };
        foreach (var read in readers)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var e = Assert.ThrowsAny<DepotException>(read);
            Assert.Contains("nests deeper than", e.Message, StringComparison.Ordinal);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{e.Message}: {clock.Elapsed}");
        }
    }
}
