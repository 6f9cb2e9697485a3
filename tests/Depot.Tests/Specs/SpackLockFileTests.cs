using System.Text;
using System.Text.Json.Nodes;
using Depot.Specs;

namespace Depot.Tests.Specs;

public sealed class SpackLockFileTests
{
    private const string Tree = "spack-1.2/install-tree";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task ReadsRootsAndEveryNodeByHash(int version)
    {
        using var dir = new TempDir();
        var path = LockFiles.Write(dir.Path, LockFiles.FromInstallTree(Tree, version, "greet"));
        var lockFile = await SpackLockFile.ReadAsync(path, Token);
        Assert.Equal(version, lockFile.Version);
        var root = Assert.Single(lockFile.Roots);
        Assert.Equal(("greet", "ilccysmlleizqaxfvvqsb6selpnnszug"), (root.Spec, root.Hash));
        var greet = lockFile.Find(root.Hash)!;
        Assert.Equal(("greet", "1.0.0"), (greet.Name, greet.Version));
        Assert.All(greet.Dependencies, e => Assert.NotNull(lockFile.Find(e.Hash)));
        Assert.Contains(lockFile.Specs, s => s.Name == "compiler-wrapper");
    }

    [Fact]
    public void IncludedEnvironmentsAddTheirRootsAndNodes()
    {
        var outer = LockFiles.FromInstallTree(Tree, 6, "greet");
        var inner = LockFiles.FromInstallTree(Tree, 6, "greet-data");
        outer["include_concrete"] = new JsonObject
        {
            ["/envs/data"] = new JsonObject
            {
                ["roots"] = inner["roots"]!.DeepClone(),
                ["concrete_specs"] = inner["concrete_specs"]!.DeepClone(),
            },
        };
        var lockFile = SpackLockFile.Parse(Encoding.UTF8.GetBytes(outer.ToJsonString()), "spack.lock");
        Assert.Equal(["greet", "greet-data"], lockFile.Roots.Select(r => r.Spec));
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "[1, 2]", "not a Spack lock file: not a JSON object" },
        { "{\"roots\": [], \"concrete_specs\": {}}", "field '_meta.lockfile-version' is missing" },
        { "{\"_meta\": {\"lockfile-version\": 3}, \"roots\": [], \"concrete_specs\": {}}",
            "field '_meta.lockfile-version' is 3" },
        { "{\"_meta\": {\"lockfile-version\": 6}, \"roots\": {}, \"concrete_specs\": {}}",
            "field 'roots' is missing or not a list" },
        { "{\"_meta\": {\"lockfile-version\": 6}, \"roots\": [{\"spec\": \"x\"}], \"concrete_specs\": {}}",
            "field 'roots[0].hash' is missing or not a string" },
        { "{\"_meta\": {\"lockfile-version\": 6}, \"roots\": []}", "field 'concrete_specs' is missing" },
        { "{\"_meta\": {\"lockfile-version\": 6}, \"roots\": [], \"concrete_specs\": {\"x\": {}}}",
            "field 'concrete_specs.x': the key is not a DAG hash" },
        { "{\"_meta\": {\"lockfile-version\": 6}, \"roots\": [], \"concrete_specs\": "
            + "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": {\"name\": \"x\", "
            + "\"hash\": \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}}}",
            "field 'concrete_specs.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.hash' is bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" },
        { "{\"_meta\": {\"lockfile-version\": 6}, \"roots\": [], \"concrete_specs\": "
            + "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": {\"hash\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}}",
            "field 'concrete_specs.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa':" },
        { "{\"_meta\": {\"lockfile-version\": 6}, \"roots\": [{\"spec\": \"x\", \"hash\": "
            + "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}], \"concrete_specs\": {}}",
            "root 'x' names hash aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, which 'concrete_specs' lacks" },
        { "{\"_meta\": {\"lockfile-version\": 6}, \"roots\": [], \"concrete_specs\": "
            + "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": {\"name\": \"x\", "
            + "\"hash\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", "
            + "\"dependencies\": [{\"name\": \"y\", \"hash\": \"cccccccccccccccccccccccccccccccc\", "
            + "\"parameters\": {\"deptypes\": [\"link\"], \"virtuals\": []}}]}}}",
            "field 'concrete_specs.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.dependencies' names y /cccc" },
        { "{\"_meta\": {\"lockfile-version\": 6}, \"roots\": [], \"concrete_specs\": {}, "
            + "\"include_concrete\": {\"e\": {\"roots\": 5, \"concrete_specs\": {}}}}",
            "field 'include_concrete.e.roots' is missing or not a list" },
        { "{\"_meta\": ", "malformed JSON" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task HostileInputIsOneLineNamingTheFileAndTheField(string json, string expected)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "spack.lock");
        await File.WriteAllTextAsync(path, json, Token);
        var error = await Assert.ThrowsAsync<InvalidContentException>(() => SpackLockFile.ReadAsync(path, Token));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task AMissingFileIsNotFound()
    {
        using var dir = new TempDir();
        var error = await Assert.ThrowsAsync<DepotException>(
            () => SpackLockFile.ReadAsync(Path.Combine(dir.Path, "none.lock"), Token));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public void DeeplyNestedJsonIsRefusedNotFollowed()
    {
        var json = "{\"_meta\": " + new string('[', 5000) + new string(']', 5000) + "}";
        var error = Assert.Throws<InvalidContentException>(
            () => SpackLockFile.Parse(Encoding.UTF8.GetBytes(json), "deep.lock"));
        Assert.Contains("malformed JSON", error.Message, StringComparison.Ordinal);
    }
}
