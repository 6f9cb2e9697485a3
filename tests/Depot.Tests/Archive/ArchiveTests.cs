using System.Formats.Tar;
using System.Text;
using Depot.Archive;
using YamlDotNet.RepresentationModel;

namespace Depot.Tests.Archive;

public class PrefixMatcherTests
{
    private static readonly PrefixMatcher Matcher = new(["/opt/spack", "/opt/spack/linux/zlib-1.3-abc",
        "/home/sbang/bin/sbang"]);

    [Theory]
    [InlineData("prefix=/opt/spack/linux/zlib", true)]
    [InlineData("-I/opt/spack/include", true)]
    [InlineData("-L/opt/spack/lib -lz", true)]
    [InlineData("x_y-z/opt/spack", true)] // a word run at the start of the file counts as bounded
    [InlineData("/home/x/opt/spack/lib", false)]
    [InlineData("/opt/spackle", true)] // Spack's regex has no right boundary
    [InlineData("#!/bin/sh /home/sbang/bin/sbang", true)]
    [InlineData("nothing here", false)]
    public void FollowsSpacksBoundaryRule(string text, bool expected) => Assert.Equal(expected, Matcher.Matches(text));

    [Fact]
    public void FindsAPrefixThatStraddlesChunks()
    {
        var text = Encoding.UTF8.GetBytes(new string('a', 5000) + " /opt/spack/lib " + new string('b', 5000));
        for (var cut = 4995; cut < 5015; cut++)
        {
            var window = Matcher.NewWindow();
            var found = window.Scan(text.AsSpan(0, cut)) | window.Scan(text.AsSpan(cut));
            Assert.True(found, $"cut at {cut}");
        }

        var blocked = Encoding.UTF8.GetBytes("xx/" + new string('w', 10) + "/opt/spack");
        var w2 = Matcher.NewWindow();
        Assert.False(w2.Scan(blocked.AsSpan(0, 8)) | w2.Scan(blocked.AsSpan(8)));
    }
}

public class FileClassifierTests
{
    private static readonly PrefixMatcher Matcher = new(["/opt/spack"]);

    private static FileClassifier Classify(byte[] content, int chunk = 1 << 20)
    {
        var classifier = new FileClassifier(Matcher);
        for (var i = 0; i < content.Length; i += chunk)
        {
            classifier.Observe(content.AsSpan(i, Math.Min(chunk, content.Length - i)));
        }

        return classifier;
    }

    [Fact]
    public void ElfAndMachOAreBinariesWhateverTheyContain()
    {
        Assert.Equal(FileClass.Binary, Classify([0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0xff]).Result());
        Assert.Equal(FileClass.Binary, Classify([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]).Result());
        Assert.Equal(FileClass.Binary, Classify([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]).Result()); // universal, 2 archs
        Assert.NotEqual(FileClass.Binary, Classify([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 0]).Result()); // Java class
    }

    [Fact]
    public void ShortFilesAreNeverRelocated() =>
        Assert.Equal(FileClass.Unknown, Classify("/opt/sp"u8.ToArray()).Result());

    [Fact]
    public void TextIsUtf8OrLatin1WithoutControlBytes()
    {
        var utf8 = Encoding.UTF8.GetBytes("caf\u00e9 \u20ac /opt/spack/lib\n");
        for (var chunk = 1; chunk <= utf8.Length; chunk++)
        {
            var c = Classify(utf8, chunk); // multi-byte characters split across chunks
            Assert.Equal(FileClass.Text, c.Result());
            Assert.True(c.TextMentionsPrefix);
        }

        Assert.Equal(FileClass.Text, Classify(Encoding.Latin1.GetBytes("caf\u00e9 latin-1 text")).Result());
        Assert.Equal(FileClass.Text, Classify("nul\0 is valid UTF-8"u8.ToArray()).Result());
        Assert.Equal(FileClass.Unknown, Classify([.. "not text at all"u8, 0xff, 0x00]).Result());
        Assert.False(Classify("plain text, no prefix"u8.ToArray()).TextMentionsPrefix);
    }
}

public class PythonTarWriterTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WritesPaxOnlyForLongNamesAndPadsToWholeRecords()
    {
        using var buffer = new MemoryStream();
        await using (var tar = new PythonTarWriter(buffer, leaveOpen: true))
        {
            var longName = "opt/" + new string('d', 120) + "/file";
            await tar.AddDirectoryAsync("opt", Token);
            await tar.AddFileAsync(longName, 0x1ed, "hello"u8.ToArray(), Token);
            await tar.AddSymlinkAsync("opt/link", "/" + longName, Token);
            await tar.AddHardLinkAsync("opt/again", longName, 0x1ed, Token);
            await tar.CloseAsync(Token);
        }

        var bytes = buffer.ToArray();
        Assert.Equal(0, bytes.Length % 10240);
        Assert.Equal("opt/", Encoding.ASCII.GetString(bytes, 0, 4));
        Assert.Equal("././@PaxHeader", Encoding.ASCII.GetString(bytes, 512, 14));

        using var reader = new TarReader(new MemoryStream(bytes));
        var entries = new List<TarEntry>();
        while (reader.GetNextEntry(copyData: true) is { } e)
        {
            entries.Add(e);
        }

        Assert.Equal(["opt/", "opt/" + new string('d', 120) + "/file", "opt/link", "opt/again"],
            entries.Select(e => e.Name));
        Assert.Equal([TarEntryType.Directory, TarEntryType.RegularFile, TarEntryType.SymbolicLink,
            TarEntryType.HardLink], entries.Select(e => e.EntryType));
        Assert.Equal("/" + entries[1].Name, entries[2].LinkName);
        Assert.All(entries, e => Assert.Equal(DateTimeOffset.UnixEpoch, e.ModificationTime));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            entries[1].Mode);
    }
}

public class BuildInfoTests
{
    private static readonly BuildInfo Info = new("/r/bin/sbang", "/r", "/spack", "linux/a-1.0-h",
        [new("h", "/r/linux/a-1.0-h")],
        ["lib/liba.so"], [], ["share/has space.txt", "share/yes", "share/it's", "share/1.5", "share/ü"]);

    [Theory]
    [InlineData(BuildInfoStyle.Flow)]
    [InlineData(BuildInfoStyle.Block)]
    public void AnyYamlParserReadsBackTheSameValues(BuildInfoStyle style)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(Encoding.UTF8.GetString(Info.ToYaml(style))));
        var map = (YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal("/r", map["buildpath"].ToString());
        Assert.Equal(Info.RelocateTextFiles, ((YamlSequenceNode)map["relocate_textfiles"]).Select(n => n.ToString()));
        Assert.Empty((YamlSequenceNode)map["relocate_links"]);
        Assert.Equal("/r/linux/a-1.0-h", ((YamlMappingNode)map["hash_to_prefix"])["h"].ToString());
        Assert.Equal("true", map["hardlinks_deduped"].ToString());
    }

    [Fact]
    public void QuotesOnlyWhatPyYamlWouldQuote()
    {
        var flow = Encoding.UTF8.GetString(Info.ToYaml(BuildInfoStyle.Flow));
        Assert.Contains("buildpath: /r,", flow, StringComparison.Ordinal);
        Assert.Contains("'share/has space.txt'", flow, StringComparison.Ordinal);
        Assert.Contains("'share/it''s'", flow, StringComparison.Ordinal);
        Assert.EndsWith("}\n", flow, StringComparison.Ordinal);
    }
}
