using Depot.Storage;
using Depot.Storage.Oci;

namespace Depot.Tests.Storage;

/// <summary>
/// Size fields a mirror or registry controls (a descriptor's <c>size</c>, a <c>Content-Length</c>) never size an
/// allocation: 10 GB is refused before a byte is read or a buffer reserved, and a size that fits the cap but is a lie
/// costs only the bytes that arrive. Memory is measured for the whole process, so these run alone.
/// </summary>
[Collection(typeof(MeasuredMemory))]
public sealed class MirrorSizeFieldTests
{
    private const long TenGigabytes = 10L << 30;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<(Exception? Error, long Allocated)> MeasureAsync(Func<Task> action)
    {
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var error = await Record.ExceptionAsync(action);
        return (error, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    [Fact]
    public async Task AnOciDescriptorClaimingTenGigabytesIsRefusedBeforeAnyRequest()
    {
        // Nothing listens on port 9: a request would fail with a connection error, not this refusal.
        using var client = new OciRegistryClient(OciReference.Parse("oci+http://127.0.0.1:9/repo"));
        var digest = "sha256:" + new string('a', 64);

        var (error, allocated) = await MeasureAsync(() => client.ReadBlobAsync(digest, TenGigabytes, 64 << 20, Token));

        var refused = Assert.IsType<InvalidContentException>(error);
        Assert.Contains($"blob of {TenGigabytes} bytes is larger than", refused.Message, StringComparison.Ordinal);
        Assert.True(allocated < 4 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public async Task AnAnnouncedLengthOfTenGigabytesIsRefusedBeforeReading()
    {
        using var body = new MemoryStream(new byte[10]);

        var (error, allocated) = await MeasureAsync(() =>
            HttpBodies.ReadAsync(body, TenGigabytes, "http://mirror/index.json", 512L << 20, Token));

        Assert.Contains("announces 10737418240 bytes", Assert.IsType<InvalidContentException>(error).Message,
            StringComparison.Ordinal);
        Assert.Equal(0, body.Position);
        Assert.True(allocated < 4 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public async Task ALengthThatFitsTheCapButIsALieCostsOnlyTheBytesThatArrive()
    {
        using var body = new MemoryStream("{\"tiny\": true}"u8.ToArray());

        byte[]? read = null;
        var (error, allocated) = await MeasureAsync(async () =>
            read = await HttpBodies.ReadAsync(body, 16 << 20, "http://registry/v2/x/blobs/sha256:aa", 64 << 20, Token));

        Assert.Null(error);
        Assert.Equal("{\"tiny\": true}"u8.ToArray(), read);
        Assert.True(allocated < 4 << 20, $"{allocated} bytes allocated for a 14-byte body announced as 16 MiB");
    }
}
