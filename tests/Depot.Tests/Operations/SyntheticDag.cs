using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.Formats;
using Depot.Layout;

namespace Depot.Tests.Operations;

/// <summary>
/// A random DAG of Spack 1.x package nodes (seeded), and v3 entries for any of them: each entry's spec file holds its
/// root and every node the root depends on, as Spack writes it. Names start with a random letter so that the order of
/// entries (sorted keys) has nothing to do with the order of dependencies.
/// </summary>
internal sealed class SyntheticDag
{
    private readonly List<JsonObject> nodes = [];
    private readonly List<int[]> dependencies = [];

    public SyntheticDag(int count, Random random, int maxDependencies = 4)
    {
        for (var i = 0; i < count; i++)
        {
            var deps = i == 0 ? [] : Enumerable.Range(0, random.Next(maxDependencies + 1))
                .Select(_ => random.Next(i)).Distinct().ToArray();
            var name = $"{(char)('a' + random.Next(26))}pkg{i}";
            var node = new JsonObject
            {
                ["name"] = name,
                ["version"] = "1." + i,
                ["arch"] = new JsonObject
                {
                    ["platform"] = "linux",
                    ["platform_os"] = "debian12",
                    ["target"] = "x86_64",
                },
                ["namespace"] = "builtin",
                ["parameters"] = new JsonObject { ["build_system"] = "generic", ["cflags"] = new JsonArray() },
                ["package_hash"] = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(name))),
                ["dependencies"] = new JsonArray(deps.Select(d => (JsonNode)new JsonObject
                {
                    ["name"] = nodes[d]["name"]!.GetValue<string>(),
                    ["hash"] = nodes[d]["hash"]!.GetValue<string>(),
                    ["parameters"] = new JsonObject
                    {
                        ["deptypes"] = new JsonArray("build", "link"),
                        ["virtuals"] = new JsonArray(),
                    },
                }).ToArray()),
                ["annotations"] = new JsonObject { ["original_specfile_version"] = 5 },
            };
            using (var doc = JsonDocument.Parse(node.ToJsonString()))
            {
                node["hash"] = Depot.Specs.DagHash.Compute(doc.RootElement);
            }

            nodes.Add(node);
            dependencies.Add(deps);
        }
    }

    public int Count => nodes.Count;

    public string HashOf(int i) => nodes[i]["hash"]!.GetValue<string>();

    /// <summary>Node <paramref name="i"/> and everything it depends on, root first.</summary>
    public List<int> Closure(int i)
    {
        var seen = new List<int> { i };
        for (var k = 0; k < seen.Count; k++)
        {
            seen.AddRange(dependencies[seen[k]].Where(d => !seen.Contains(d)));
        }

        return seen;
    }

    /// <summary>Writes node <paramref name="i"/>'s entry (unsigned, a tiny tarball) into the v3 mirror at
    /// <paramref name="root"/>.</summary>
    public void WriteEntry(string root, int i)
    {
        var spec = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["_meta"] = new JsonObject { ["version"] = 5 },
                ["nodes"] = new JsonArray(Closure(i).Select(k => nodes[k].DeepClone()).ToArray()),
            },
        };
        V3EntryFiles.Write(root, nodes[i]["name"]!.GetValue<string>(), "1." + i, HashOf(i), spec.ToJsonString(),
            $"package {i}");
    }
}
