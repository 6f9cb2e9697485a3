using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.Formats;
using Depot.Layout;

namespace Depot.Tests.Server;

/// <summary>
/// Directory mirrors (v3, unsigned) of many distinct entries made from the fixture's greet-data: each a new version
/// (so a new DAG hash), its own small gzip'd tarball.
/// </summary>
internal static class SyntheticMirror
{
    /// <summary>Writes <paramref name="count"/> entries, versions <c>PREFIX.0</c>, <c>PREFIX.1</c>…, into
    /// <paramref name="root"/>; returns their DAG hashes.</summary>
    public static IReadOnlyList<string> Write(string root, string prefix, int count)
    {
        var fixture = TestData.Path(TestData.V3Unsigned);
        var file = Directory.EnumerateFiles(Path.Combine(fixture, "v3", "manifests", "spec", "greet-data")).Single();
        var template = BuildCacheManifest.Parse(File.ReadAllBytes(file), file);
        var specRecord = template.Find(MediaTypes.SpecPrefix, prefix: true)!;
        var specJson = Gzip.Decompress(File.ReadAllBytes(Path.Combine(fixture, specRecord.BlobKey)), "fixture");
        var hashes = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var version = $"{prefix}.{i}";
            var json = JsonNode.Parse(specJson)!;
            var node = json["spec"]!["nodes"]![0]!;
            node["version"] = version;
            using (var doc = JsonDocument.Parse(json.ToJsonString()))
            {
                node["hash"] = Depot.Specs.DagHash.Compute(doc.RootElement.GetProperty("spec").GetProperty("nodes")[0]);
            }

            var hash = node["hash"]!.GetValue<string>();
            V3EntryFiles.Write(root, "greet-data", version, hash, json.ToJsonString(),
                $"greet-data {version} {Guid.NewGuid()}", specRecord.MediaType);
            hashes.Add(hash);
        }

        return hashes;
    }
}
