using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Depot.Specs;

namespace Depot.Tests.Specs;

/// <summary>
/// Hostile spec files and lock files: mutated real ones and generated JSON reach <see cref="SpecFile.Parse"/>, the
/// indexing scanner (<see cref="SpecFileScanner.Scan"/>) and <see cref="SpackLockFile.Parse"/>; only Depot's own errors
/// may come out, and a nesting bomb is refused without a deep stack or a large allocation.
/// </summary>
public sealed class SpecFileFuzzTests
{
    /// <summary>Small JSON documents shaped like spec files: nodes with names, hashes, dependencies of any
    /// type.</summary>
    internal static readonly Gen<byte[]> SpecLikeJson =
        Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 0, 40], Gen.Int[0, 6], Gen.Int[-3, 9], Gen.Bool)
            .Select((name, count, version, weird) =>
            {
                var hash = new string('a', 32);
                var nodes = new JsonArray(Enumerable.Range(0, count).Select(i => (JsonNode)new JsonObject
                {
                    ["name"] = name + i,
                    ["version"] = weird ? new JsonArray(1) : "1.0",
                    ["hash"] = hash,
                    ["dependencies"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "x",
                        ["hash"] = weird ? 7 : hash,
                        ["parameters"] = new JsonObject
                        {
                            ["deptypes"] = new JsonArray("link"),
                            ["virtuals"] = weird ? new JsonObject() : new JsonArray(),
                        },
                    }),
                }).ToArray());
                var spec = new JsonObject { ["_meta"] = new JsonObject { ["version"] = version }, ["nodes"] = nodes };
                return Encoding.UTF8.GetBytes(new JsonObject { ["spec"] = spec }.ToJsonString());
            });

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void SpecFilesFromAMirrorParseOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("spec-json", input =>
        {
            ReadEveryField(SpecFile.Parse(input, "fuzzed.spec.json").Nodes);
            ReadEveryField(SpecFileScanner.Scan(input, "fuzzed.spec.json", _ => false)?.NewNodes ?? []);
            SpecFileScanner.Scan(input, "fuzzed.spec.json", _ => true);
        }, iterations: 3000, SpecLikeJson);

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void LockFilesParseOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("lockfile", input => ReadEveryField(SpackLockFile.Parse(input, "spack.lock").Specs),
            iterations: 1500);

    /// <summary>Reads what a node reads lazily (fields, parameters, edges), as listing and installing do, and prints
    /// it.</summary>
    internal static void ReadEveryField(IEnumerable<SpecNode> nodes)
    {
        foreach (var node in nodes)
        {
            _ = (node.Version, node.Namespace, node.Architecture, node.Compiler, node.IsExternal, node.ExternalPath);
            _ = (node.Variants.Count, node.Flags.Count, node.Dependencies.Count);
            _ = SpecFormatter.Short(node);
        }
    }

    [Theory]
    [InlineData("[")]
    [InlineData("{\"a\":")]
    public void AJsonNestingBombIsRefusedWithinAFewMegabytes(string opener)
    {
        var bomb = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(opener, 100_000)));
        var parsers = new Action[]
        {
            () => SpecFile.Parse(bomb, "bomb.spec.json"),
            () => SpecFileScanner.Scan(bomb, "bomb.spec.json", _ => false),
            () => SpackLockFile.Parse(bomb, "spack.lock"),
            () => Depot.Layout.BuildCacheIndex.Parse(bomb, "index.json"),
            () => Depot.Layout.BuildCacheManifest.Parse(bomb, "bomb.spec.manifest.json"),
            () => Depot.Storage.Oci.OciImageManifest.Parse(bomb, "bomb manifest"),
        };
        foreach (var parse in parsers)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.ThrowsAny<DepotException>(parse);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.DoesNotContain('\n', e.Message);
            Assert.True(allocated < 8 << 20, $"{e.Message}: {allocated} bytes allocated");
        }
    }
}
