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
        """{"n":1.5,"big":12345678901234567890,"t":true,"f":false,"z":null,"e":[],"o":{}}""")]
    public void CompactOutputEscapesLikePythonEnsureAscii(string input, string expected)
    {
        using var doc = JsonDocument.Parse(input);
        Assert.Equal(expected, Encoding.ASCII.GetString(PythonJsonWriter.ToBytes(doc.RootElement)));
    }

    // The gzipped spec blobs of the two v3 fixture mirrors (five specs each): the loop must find them all to check.
    private const int ExpectedV3SpecBlobs = 10;

    [Fact]
    public async Task NumbersAreWrittenAsPythonsJsonDumpsPrintsThem()
    {
        string[] numbers =
        [
            "1.50", "0", "-0", "-12", "12345678901234567890", "1.0", "-0.0", "0.1", "0.30000000000000004",
            "1e16", "1E15", "123456789012345678.0", "1e-4", "0.00001", "1.5e-7", "2.5e+300", "1e400", "-1e400",
            "5e-324", "1.7976931348623157e308", "1733456789.123456", "3.14159265358979323846", "100", "1e22",
            "9007199254740993.0", "0.000123456789", "-2.50E-3", "1e1", "123.456e2",
        ];
        var input = "[" + string.Join(",", numbers) + "]";
        using var python = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("python3",
            ["-c", "import json,sys\nprint(json.dumps(json.loads(sys.argv[1]),separators=(',',':')),end='')", input])
        { RedirectStandardOutput = true })!;
        var expected = await python.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await python.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, python.ExitCode);
        Assert.Equal(numbers.Length, expected.Split(',').Length);

        using var doc = JsonDocument.Parse(input);
        Assert.Equal(expected, Encoding.ASCII.GetString(PythonJsonWriter.ToBytes(doc.RootElement)));
        Assert.Equal("1733456789.123456", PythonFloat.Repr(1733456789.123456));
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
        var blobs = TestData.SpecFiles().Where(f => f.Contains("/blobs/", StringComparison.Ordinal)).ToList();
        Assert.Equal(ExpectedV3SpecBlobs, blobs.Count);
        foreach (var file in blobs)
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
