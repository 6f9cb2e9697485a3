using System.Buffers;
using System.Text.Json;
using Depot.Formats;
using Depot.Specs;

namespace Depot.Tests.Specs;

public sealed class LegacyNodesTests
{
    private static JsonElement FixtureNode()
    {
        var file = Directory.EnumerateFiles(TestData.Path(TestData.V2Unsigned + "/build_cache"),
            "*-gcc-12.2.0-greet-1.0.0-*.spec.json").Single();
        return SpecFile.Parse(File.ReadAllBytes(file), file).Root.Json;
    }

    [Fact]
    public void ASpack021NodeLosesItsCompilerAttributeToAnAnnotationBeforeItsHash()
    {
        var node = FixtureNode();
        Assert.True(LegacyNodes.NeedsAnnotations(node));
        var buffer = new ArrayBufferWriter<byte>();
        LegacyNodes.WriteAnnotated(new PythonJsonWriter(buffer), node);
        using var written = JsonDocument.Parse(buffer.WrittenMemory);
        var names = written.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.DoesNotContain("compiler", names);
        Assert.Equal(["annotations", "hash"], names[^2..]);
        Assert.Equal(names.Count, node.EnumerateObject().Count());
        var annotations = written.RootElement.GetProperty("annotations");
        Assert.Equal(4, annotations.GetProperty("original_specfile_version").GetInt32());
        Assert.Equal("gcc@=12.2.0", annotations.GetProperty("compiler").GetString());
        Assert.False(LegacyNodes.NeedsAnnotations(written.RootElement));

        var reread = SpecNode.Parse(written.RootElement.Clone(), "index");
        Assert.Equal(new NodeCompiler("gcc", "12.2.0"), reread.Compiler);
        Assert.Equal(node.GetProperty("hash").GetString(), reread.Hash);
    }

    [Fact]
    public void Spack12NodesAreLeftAlone()
    {
        var file = Directory.EnumerateFiles(TestData.Path("spack-1.2/install-tree"), "spec.json",
            SearchOption.AllDirectories).First();
        Assert.All(SpecFile.Parse(File.ReadAllBytes(file), file).Nodes,
            n => Assert.False(LegacyNodes.NeedsAnnotations(n.Json)));
    }
}
