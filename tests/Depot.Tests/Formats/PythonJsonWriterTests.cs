using System.Buffers;
using System.Text;
using System.Text.Json;
using Depot.Formats;
using Depot.Layout;
using Depot.Specs;

namespace Depot.Tests.Formats;

public class PythonJsonWriterTests
{
    [Theory]
    [InlineData("""{"a":"plus+less<gt>amp&quote'"}""", """{"a":"plus+less<gt>amp&quote'"}""")]
    [InlineData("""{"a":"caf\u00e9 \ud83d\ude00 / \\ \" \n\t\u0001\u007f"}""",
        """{"a":"caf\u00e9 \ud83d\ude00 / \\ \" \n\t\u0001\u007f"}""")]
    [InlineData("""{ "n" : 1.50, "big": 12345678901234567890, "t": true, "f": false, "z": null, "e": [], "o": {} }""",
        """{"n":1.50,"big":12345678901234567890,"t":true,"f":false,"z":null,"e":[],"o":{}}""")]
    public void CompactOutputEscapesLikePythonEnsureAscii(string input, string expected)
    {
        using var doc = JsonDocument.Parse(input);
        Assert.Equal(expected, Encoding.ASCII.GetString(PythonJsonWriter.ToBytes(doc.RootElement)));
    }

    [Fact]
    public void IndentZeroPutsOneTokenPerLine()
    {
        using var doc = JsonDocument.Parse("""{"a":[1,{"b":[]}],"c":{}}""");
        var text = Encoding.ASCII.GetString(PythonJsonWriter.ToBytes(doc.RootElement, PythonJsonStyle.IndentZero));
        Assert.Equal("{\n\"a\":[\n1,\n{\n\"b\":[]\n}\n],\n\"c\":{}\n}", text);
    }

    [Fact]
    public void V3SpecBlobsAreReproducedByteForByte()
    {
        foreach (var file in TestData.SpecFiles().Where(f => f.Contains("/blobs/", StringComparison.Ordinal)))
        {
            var json = Gzip.Decompress(File.ReadAllBytes(file), file);
            using var doc = JsonDocument.Parse(json);
            Assert.Equal(json, PythonJsonWriter.ToBytes(doc.RootElement));
        }
    }

    [Fact]
    public void V2SpecFilesAreReproducedByteForByteInIndentZeroStyle()
    {
        var files = Directory.EnumerateFiles(TestData.Path(TestData.V2Unsigned), "*.spec.json",
            SearchOption.AllDirectories).ToList();
        Assert.Equal(3, files.Count);
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            using var doc = JsonDocument.Parse(bytes);
            Assert.Equal(bytes, PythonJsonWriter.ToBytes(doc.RootElement, PythonJsonStyle.IndentZero));
        }
    }

    [Fact]
    public void WriterBuildsNestedDocuments()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new PythonJsonWriter(buffer);
        w.StartObject();
        w.WriteString("k", "v\u00e9");
        w.WritePropertyName("l");
        w.StartArray();
        w.WriteNumber(1);
        w.WriteBoolean(false);
        w.WriteNull();
        w.EndArray();
        w.EndObject();
        Assert.Equal("{\"k\":\"v\\u00e9\",\"l\":[1,false,null]}", Encoding.ASCII.GetString(buffer.WrittenSpan));
    }
}
