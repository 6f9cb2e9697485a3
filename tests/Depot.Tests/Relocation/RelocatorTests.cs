using System.Text;
using Depot.Relocation;

namespace Depot.Tests.Relocation;

public class RelocatorTests
{
    private static PrefixMap Map(params (string Old, string New)[] pairs)
    {
        var map = new PrefixMap();
        foreach (var (old, @new) in pairs)
        {
            map.Add(old, @new);
        }

        return map;
    }

    [Fact]
    public void TextFollowsSpacksRegex()
    {
        var map = Map(("/old/root/pkg-abc", "/new/pkg-abc"), ("/old/root", "/new"));
        var text = "prefix=/old/root/pkg-abc\n-I/old/root/pkg-abc/include -L/old/root/lib\n"
            + "/home/old/root/pkg-abc stays\nx_y/old/root moves\n";
        var relocated = Encoding.UTF8.GetString(TextRelocator.Relocate(Encoding.UTF8.GetBytes(text), map)!);
        // A word run before the prefix counts unless it follows '/': "-I", "x_y" yes, "/home" no.
        Assert.Equal("prefix=/new/pkg-abc\n-I/new/pkg-abc/include -L/new/lib\n"
            + "/home/old/root/pkg-abc stays\nx_y/new moves\n", relocated);
        Assert.Null(TextRelocator.Relocate("nothing to do"u8, map));
    }

    [Fact]
    public void BinaryStringsArePaddedWithSlashesOrShortenedAndNeverGrow()
    {
        var map = Map(("/old/prefix/that/is/long", "/new/short"));
        const string Before = "A/old/prefix/that/is/long/share/data\0B/old/prefix/that/is/long\0"
            + "C/old/prefix/that/is/long/lib\0D";
        var data = Encoding.ASCII.GetBytes(Before);
        var problems = BinaryRelocator.RelocateInPlace(data, map, out var modified);
        Assert.True(modified);
        Assert.Empty(problems);
        var text = Encoding.ASCII.GetString(data);
        // long suffix: '/' padding
        Assert.Contains("A" + new string('/', 14) + "/new/short/share/data\0", text, StringComparison.Ordinal);
        Assert.Contains("B/new/short\0", text, StringComparison.Ordinal); // shrank by more than 7: new + NUL
        Assert.Contains("C/new/short/lib\0", text, StringComparison.Ordinal); // new + short suffix + NUL
        Assert.Equal(Encoding.ASCII.GetBytes(Before).Length, data.Length);

        var grow = Encoding.ASCII.GetBytes("/a/b\0");
        Assert.Single(BinaryRelocator.RelocateInPlace(grow, Map(("/a/b", "/a/much/longer")), out var grew));
        Assert.False(grew);
        Assert.Equal("/a/b\0", Encoding.ASCII.GetString(grow));

        var tooClose = Encoding.ASCII.GetBytes("/old/prefix/xy/lib\0");
        Assert.Contains("cannot shrink",
            Assert.Single(BinaryRelocator.RelocateInPlace(tooClose, Map(("/old/prefix/xy", "/new/prefi")), out _)),
            StringComparison.Ordinal);
    }
}
