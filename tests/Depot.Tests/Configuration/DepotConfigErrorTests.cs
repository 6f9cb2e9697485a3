using Depot.Configuration;

namespace Depot.Tests.Configuration;

/// <summary>
/// A <c>config.yaml</c> with one broken mirror entry: read tolerantly, the other entries stay usable and the broken one
/// is set aside with an error naming the file, line, column and field; read strictly (to rewrite the file), the whole
/// load refuses with that error, so nothing drops the entry.
/// </summary>
public class DepotConfigErrorTests
{
    private const string Yaml = """
        mirrors:
          good:
            url: /nowhere
          broken:
            url: /elsewhere
            fetch:
              url: [not, one]
        """;

    [Fact]
    public void ABrokenEntryIsSetAsideNamingFileLineColumnAndFieldAndTheOthersAreKept()
    {
        using var home = new TempDir();
        var path = home.Combine("config.yaml");
        File.WriteAllText(path, Yaml);

        var config = DepotConfig.LoadTolerant(path);

        Assert.Equal(["good"], config.Mirrors.Keys);
        Assert.Equal("/nowhere", config.Mirrors["good"].Url);
        var error = Assert.Single(config.Broken).Value;
        Assert.Equal(ErrorKind.InvalidContent, error.Kind);
        Assert.Equal($"{path}: line 7, column 12: mirrors.broken.fetch.url: a list does not fit here: expected a "
            + "single value (text)", error.Message);

        var strict = Assert.Throws<DepotException>(() => DepotConfig.Load(path));
        Assert.Equal(error.Message, strict.Message);
    }

    [Fact]
    public void TheRegistryOpensTheGoodEntryAndRaisesTheBrokenOnesErrorWhenItIsNamed()
    {
        using var home = new TempDir();
        using var spack = new TempDir();
        File.WriteAllText(home.Combine("config.yaml"), Yaml);
        File.WriteAllText(spack.Combine("mirrors.yaml"), "mirrors:\n  broken: /from-spack\n");
        var environment = EnvironmentVariables.From(new Dictionary<string, string>
        {
            ["SPACK_USER_CONFIG_PATH"] = spack.Path,
        });

        var registry = MirrorRegistry.Load(new DepotHome(home.Path),
            Depot.Storage.Providers.StoreProviders.Builtin.WithEnvironment(environment));

        Assert.Equal("good", registry.Find("good")!.Value.Name);
        Assert.Null(registry.Find("/somewhere/else"));
        var e = Assert.Throws<DepotException>(() => registry.Find("broken"));
        Assert.Contains("mirrors.broken.fetch.url", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(registry.Mirrors, m => m.Name == "broken"); // Spack's 'broken' stays hidden by Depot's
    }

    [Fact]
    public void AnAliasToAnotherMirrorsAnchorIsReadAsItsNode()
    {
        using var home = new TempDir();
        var path = home.Combine("config.yaml");
        File.WriteAllText(path, """
            mirrors:
              first:
                url: s3://a/cache
                access_pair: &pair {id_variable: KEY_ID, secret_variable: SECRET}
              second:
                url: s3://b/cache
                access_pair: *pair
            """);

        var config = DepotConfig.Load(path);

        Assert.Empty(config.Broken);
        Assert.Equal(("KEY_ID", "SECRET"), (config.Mirrors["second"].AccessPair!.IdVariable,
            config.Mirrors["second"].AccessPair!.SecretVariable));
    }

    [Theory]
    [InlineData("")]
    [InlineData("mirrors:\n")]
    [InlineData("# nothing yet\n")]
    public void AnEmptyConfigHasNoMirrors(string yaml)
    {
        using var home = new TempDir();
        File.WriteAllText(home.Combine("config.yaml"), yaml);
        var config = DepotConfig.Load(home.Combine("config.yaml"));
        Assert.Empty(config.Mirrors);
        Assert.Empty(config.Broken);
    }
}
