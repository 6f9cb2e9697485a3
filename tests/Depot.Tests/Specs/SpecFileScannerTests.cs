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
