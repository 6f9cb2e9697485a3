using System.IO.Compression;
using System.Text;
using CsCheck;
using Depot.Formats;

namespace Depot.Tests.Formats;

/// <summary>
/// Hostile clearsigned messages and gzip streams: <see cref="ClearSignedMessage.Parse"/> and
/// <see cref="Gzip.Decompress"/> return or throw Depot's own error, whatever the bytes.
/// </summary>
public sealed class FormatsFuzzTests
{
    private static readonly Gen<byte[]> ClearSignedLike =
        Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 0, 200], Gen.String[Gen.Char, 0, 80], Gen.Int[0, 3])
            .Select((body, armor, dashes) => Encoding.UTF8.GetBytes(
                "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" + new string('-', dashes) + " " + body
                + "\n-----BEGIN PGP SIGNATURE-----\n\n" + armor + "\n-----END PGP SIGNATURE-----\n"));

    /// <summary>Gzip streams of random content, some with their trailer's size rewritten.</summary>
    private static readonly Gen<byte[]> GzipLike =
        Gen.Select(Gen.Byte.Array[0, 4096], Gen.UInt, Gen.Bool).Select((content, size, lie) =>
        {
            using var output = new MemoryStream();
            using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(content);
            }

            var bytes = output.ToArray();
            if (lie && bytes.Length >= 4)
            {
                BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 4), size);
            }

            return bytes;
        });

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void ClearSignedMessagesParseOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("clearsigned", input =>
        {
            if (ClearSignedMessage.LooksClearSigned(input))
            {
                ClearSignedMessage.Parse(Encoding.UTF8.GetString(input), "fuzzed.sig");
            }

            ClearSignedMessage.Parse(Encoding.Latin1.GetString(input), "fuzzed.sig");
        }, iterations: 3000, ClearSignedLike);

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void GzipStreamsInflateOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("gzip", input =>
        {
            Gzip.Decompress(input, "fuzzed.gz", 1 << 20);
            var memory = Gzip.DecompressPooled(input, "fuzzed.gz", out var rented, 1 << 20);
            Assert.True(memory.Length <= 1 << 20);
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }, iterations: 2000, GzipLike);

    [Fact]
    public void ATrailerClaimingFourGigabytesAllocatesOnlyWhatTheInputCanInflateTo()
    {
        var bytes = SpackGzip.Compress("{\"spec\": {}}"u8);
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 4), uint.MaxValue);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var inflated = Record.Exception(() => Gzip.Decompress(bytes, "lying.gz", Gzip.IndexLimit));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(inflated is null or DepotException, inflated?.ToString());
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated");
    }
}
