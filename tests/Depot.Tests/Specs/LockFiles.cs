using System.Text.Json.Nodes;

namespace Depot.Tests.Specs;

/// <summary>
/// Spack lock files made the way Spack writes them (<c>_meta</c>, <c>spack</c>, <c>roots</c>, <c>concrete_specs</c>
/// keyed by DAG hash) from the nodes of a real install tree's database, so their hashes are Spack's own.
/// </summary>
public static class LockFiles
{
    /// <summary>A lock (version <paramref name="version"/>) whose roots are the installed specs named, with every
    /// node of the install tree.</summary>
    public static JsonObject FromInstallTree(string tree, int version, params string[] rootNames)
    {
        var db = JsonNode.Parse(File.ReadAllText(Path.Combine(TestData.Path(tree), ".spack-db", "index.json")))!;
        var concrete = new JsonObject();
        var roots = new JsonArray();
        foreach (var (hash, record) in db["database"]!["installs"]!.AsObject())
        {
            var spec = record!["spec"]!.DeepClone();
            concrete[hash] = spec;
            if (rootNames.Contains((string)spec["name"]!))
            {
                roots.Add(new JsonObject { ["hash"] = hash, ["spec"] = (string)spec["name"]! });
            }
        }

        return new JsonObject
        {
            ["_meta"] = new JsonObject
            {
                ["file-type"] = "spack-lockfile",
                ["lockfile-version"] = version,
                ["specfile-version"] = 5,
            },
            ["spack"] = new JsonObject { ["version"] = "1.2.0.dev0", ["type"] = "git" },
            ["roots"] = roots,
            ["concrete_specs"] = concrete,
        };
    }

    /// <summary>Writes <paramref name="lockFile"/> as <c>spack.lock</c> in <paramref name="folder"/>.</summary>
    public static string Write(string folder, JsonNode lockFile)
    {
        var path = Path.Combine(folder, "spack.lock");
        File.WriteAllText(path, lockFile.ToJsonString());
        return path;
    }
}
