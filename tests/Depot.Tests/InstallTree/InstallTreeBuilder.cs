using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.Specs;

namespace Depot.Tests.InstallTree;

/// <summary>
/// Builds a small Spack 1.x install tree for tests: a format-8 database, one prefix per package with its
/// <c>.spack/spec.json</c>, and whatever files the test writes into the prefix. DAG hashes are computed for real.
/// </summary>
public sealed class InstallTreeBuilder(string root)
{
    private readonly JsonObject installs = [];
    private readonly Dictionary<string, JsonObject> nodes = new(StringComparer.Ordinal);

    public string Root { get; } = root;

    /// <summary>Adds an installed package whose dependencies (name → (hash, deptypes)) were added before; returns its
    /// hash.</summary>
    public string Add(string name, string version, Action<string>? writeFiles = null,
        IReadOnlyList<(string Hash, string[] Types)>? dependencies = null, string? externalPath = null)
    {
        var node = new JsonObject
        {
            ["name"] = name,
            ["version"] = version,
            ["arch"] = new JsonObject { ["platform"] = "linux", ["platform_os"] = "debian12", ["target"] = "x86_64" },
            ["namespace"] = "builtin",
            ["parameters"] = new JsonObject
            {
                ["build_system"] = "generic",
                ["cflags"] = new JsonArray(),
                ["ldflags"] = new JsonArray(),
            },
        };
        if (externalPath is not null)
        {
            node["external"] = new JsonObject
            {
                ["path"] = externalPath,
                ["module"] = null,
                ["extra_attributes"] = new JsonObject(),
            };
        }
        else
        {
            node["package_hash"] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        }

        if (dependencies is { Count: > 0 })
        {
            var deps = new JsonArray();
            foreach (var (hash, types) in dependencies.OrderBy(d => (string)nodes[d.Hash]["name"]!,
                StringComparer.Ordinal))
            {
                deps.Add(new JsonObject
                {
                    ["name"] = (string)nodes[hash]["name"]!,
                    ["hash"] = hash,
                    ["parameters"] = new JsonObject
                    {
                        ["deptypes"] = new JsonArray(types.Select(t => (JsonNode)t).ToArray()),
                        ["virtuals"] = new JsonArray(),
                    },
                });
            }

            node["dependencies"] = deps;
        }

        node["annotations"] = new JsonObject { ["original_specfile_version"] = 5 };
        var dagHash = DagHash.Compute(JsonDocument.Parse(node.ToJsonString()).RootElement);
        node["hash"] = dagHash;
        nodes[dagHash] = node;

        var prefix = externalPath ?? Prefix(name, version, dagHash);
        if (externalPath is null)
        {
            Directory.CreateDirectory(Path.Combine(prefix, ".spack"));
            File.WriteAllText(Path.Combine(prefix, ".spack", "spec.json"), SpecJson(dagHash), new UTF8Encoding(false));
            writeFiles?.Invoke(prefix);
        }

        installs[dagHash] = new JsonObject
        {
            ["spec"] = node.DeepClone(),
            ["ref_count"] = 0,
            ["path"] = prefix,
            ["installed"] = true,
            ["explicit"] = true,
        };
        return dagHash;
    }

    public string Prefix(string name, string version, string hash) =>
        Path.Combine(Root, "linux-x86_64", $"{name}-{version}-{hash}");

    /// <summary>Writes <c>.spack-db/index.json</c>; call after the last <see cref="Add"/>.</summary>
    public void WriteDatabase()
    {
        Directory.CreateDirectory(Path.Combine(Root, ".spack-db"));
        var db = new JsonObject
        {
            ["database"] = new JsonObject { ["version"] = "8", ["installs"] = installs.DeepClone() },
        };
        File.WriteAllText(Path.Combine(Root, ".spack-db", "index.json"), db.ToJsonString());
    }

    // Root node first, then dependencies depth-first in name order, each once: the shape Spack writes.
    private string SpecJson(string hash)
    {
        var list = new JsonArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([hash]);
        while (stack.Count > 0)
        {
            var h = stack.Pop();
            if (!seen.Add(h))
            {
                continue;
            }

            list.Add(nodes[h].DeepClone());
            if (nodes[h]["dependencies"] is JsonArray deps)
            {
                foreach (var d in deps.Reverse())
                {
                    stack.Push((string)d!["hash"]!);
                }
            }
        }

        var spec = new JsonObject { ["_meta"] = new JsonObject { ["version"] = 5 }, ["nodes"] = list };
        return new JsonObject { ["spec"] = spec }.ToJsonString();
    }
}
