using Depot.Formats;
using Depot.Layout;
using Depot.Specs;

namespace Depot.Tests.Specs;

public class SpecFileScannerTests
{
    private static byte[] GreetBlob() => Gzip.Decompress(File.ReadAllBytes(TestData.Path(
        TestData.V3Signed + "/blobs/sha256/c3/c3607bc9ed60f5ed4e48a754a3bd3cab96a9d3112ca6f33c829808cfdc49d565")),
            "blob");

    [Fact]
    public void KnownDependenciesAreNotParsedAgain()
    {
        var json = GreetBlob();
        var all = SpecFile.Parse(json, "blob");
        var scan = SpecFileScanner.Scan(json, "blob", h => h != all.Root.Hash)!;
        Assert.Equal(all.Root.Hash, scan.RootHash);
        Assert.Equal(2, scan.LayoutVersion);
        Assert.Equal(all.Root.Hash, Assert.Single(scan.NewNodes).Hash);
        Assert.Equal(PythonJsonWriter.ToBytes(all.Root.Json), PythonJsonWriter.ToBytes(scan.NewNodes[0].Json));
    }

    [Fact]
    public void UnknownNodesAreAllParsed()
    {
        var json = GreetBlob();
        var scan = SpecFileScanner.Scan(json, "blob", _ => false)!;
        Assert.Equal(SpecFile.Parse(json, "blob").Nodes.Select(n => n.Hash), scan.NewNodes.Select(n => n.Hash));
    }

    [Fact]
    public void AnEdgeToAMissingNodeIsRefused()
    {
        var json = System.Text.Encoding.UTF8.GetBytes("{\"spec\":{\"_meta\":{\"version\":5},\"nodes\":[{\"name\":\"a\","
            + "\"dependencies\":[{\"name\":\"b\",\"hash\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}],"
            + "\"hash\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}}");
        var e = Assert.Throws<InvalidContentException>(() => SpecFileScanner.Scan(json, "f", _ => false));
        Assert.Contains("refers to hash bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LegacyListSpecsAreLeftToTheFullParser() =>
        Assert.Null(SpecFileScanner.Scan("{\"spec\":[{\"a\":{\"hash\":\"x\"}}]}"u8.ToArray(), "f", _ => false));
}

public class CompactNodeTests
{
    private static byte[] GreetBlob() => Gzip.Decompress(File.ReadAllBytes(TestData.Path(
        TestData.V3Signed + "/blobs/sha256/c3/c3607bc9ed60f5ed4e48a754a3bd3cab96a9d3112ca6f33c829808cfdc49d565")),
            "blob");

    [Fact]
    public void NodesKeptAsTextReadAsParsedOnes()
    {
        var json = GreetBlob();
        var parsed = SpecFile.Parse(json, "blob").Nodes;
        var scanned = SpecFileScanner.Scan(json, "blob", _ => false)!.NewNodes;
        Assert.Equal(parsed.Count, scanned.Count);
        foreach (var (p, s) in parsed.Zip(scanned))
        {
            Assert.True(s.IsCompactSource);
            Assert.Equal(SpecNode.DependencyHashes(p.Json), SpecNode.DependencyHashesOf(s));
            Assert.Equal(PythonJsonWriter.ToBytes(p.Json), s.CompactText.ToArray());
            Assert.Equal((p.Name, p.Hash, p.Version, p.Architecture), (s.Name, s.Hash, s.Version, s.Architecture));
            Assert.Equal(PythonJsonWriter.ToBytes(p.Json), PythonJsonWriter.ToBytes(s.Json));
        }
    }

    [Fact]
    public void ARepeatedKeyIsLeftToTheDocument()
    {
        var twice = "{\"name\":\"a\",\"hash\":\"x\",\"hash\":\"y\"}"u8;
        Assert.Null(SpecNode.FromCompactText(twice, "f"));
        var node = SpecNode.FromCompactText(System.Text.Encoding.UTF8.GetBytes(
            "{\"name\":\"a\",\"dependencies\":[{\"name\":\"b\",\"hash\":\"h1\"}],\"dependencies\":[{\"name\":\"c\","
            + "\"hash\":\"h2\"}],\"hash\":\"x\"}"), "f")!;
        // The edges are read from the document, whichever "dependencies" it keeps: never a mix of both.
        Assert.Equal(SpecNode.DependencyHashes(node.Json), SpecNode.DependencyHashesOf(node));
        Assert.Single(SpecNode.DependencyHashesOf(node));
    }
}
