using System.Globalization;
using System.Text;
using Depot.Archive;

namespace Depot.Tests.Archive;

/// <summary>
/// A tar header, or a PAX record, claiming a size no package has (2^62 bytes, more than a long, negative): the
/// extractor refuses it with one line, without allocating or writing anything near that size. Memory is measured for
/// the whole process, so this runs alone.
/// </summary>
[Collection(typeof(Depot.Tests.Storage.MeasuredMemory))]
public sealed class HugeMemberSizeTests
{
    [Theory]
    [InlineData("4611686018427387904")]
    [InlineData("99999999999999999999999")]
    [InlineData("-5")]
    public async Task APaxHeaderClaimingAHugeSizeIsRefusedWithoutAllocatingForIt(string size)
    {
        using var scratch = new TempDir();
        var tarball = scratch.Combine("huge.tar.gz");
        var tar = PaxTar("pkg/.spack/binary_distribution", size, "tiny"u8.ToArray());
        File.WriteAllBytes(tarball, SafeExtractorFuzzTests.Gzipped(tar));

        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var e = await Assert.ThrowsAnyAsync<DepotException>(() => SafeExtractor.ExtractAsync(tarball,
            scratch.Combine("staging"), new ExtractionLimits(), "huge.tar.gz",
            TestContext.Current.CancellationToken));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.DoesNotContain('\n', e.Message);
        Assert.True(allocated < 8 << 20, $"{e.Message}: {allocated} bytes allocated");
        Assert.True(new DirectoryInfo(scratch.Path).EnumerateFiles("*", SearchOption.AllDirectories)
            .Sum(f => f.Length) < 1 << 20);
    }

    /// <summary>A tar of one regular file whose PAX extended header says <paramref name="size"/>, written by hand
    /// (no tar writer lets a header lie).</summary>
    private static byte[] PaxTar(string name, string size, byte[] content)
    {
        var body = $" size={size}\n";
        var digits = 1;
        while ((body.Length + digits).ToString(CultureInfo.InvariantCulture).Length != digits)
        {
            digits++;
        }

        var record = (body.Length + digits).ToString(CultureInfo.InvariantCulture) + body;
        var pax = Encoding.ASCII.GetBytes(record);
        using var tar = new MemoryStream();
        tar.Write(Header("PaxHeaders/x", pax.Length, (byte)'x'));
        tar.Write(Padded(pax));
        tar.Write(Header(name, content.Length, (byte)'0'));
        tar.Write(Padded(content));
        tar.Write(new byte[1024]);
        return tar.ToArray();
    }

    private static byte[] Padded(byte[] data) => [.. data, .. new byte[(512 - data.Length % 512) % 512]];

    private static byte[] Header(string name, long size, byte type)
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 116);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(header, 124);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(header, 136);
        header[156] = type;
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        var sum = header.Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        return header;
    }
}
