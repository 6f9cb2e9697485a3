using System.Collections.Concurrent;
using System.Security.Cryptography;
using Depot.Storage;
using Depot.Storage.Oci;
using Microsoft.AspNetCore.Http;

namespace Depot.Tests.Storage;

/// <summary>
/// Ranged reads from servers that do not honour <c>Range</c> (static hosts, some registries): they answer 200 with the
/// whole object, and the store still yields exactly the range; a server that answers a different range than asked is
/// refused.
/// </summary>
public sealed class RangeIgnoringServerTests
{
    private static readonly byte[] Content = RandomNumberGenerator.GetBytes((1 << 20) + 5);
    private static readonly string Digest = OciRegistryClient.Digest(Content);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<long, long?> Ranges => new()
    {
        { 0, 10 }, { 1000, 70000 }, { 5000, null }, { Content.Length - 3, 100 }, { Content.Length, null },
        { Content.Length, 5 }, { 7, 0 },
    };

    // Answers every GET and HEAD with the whole object (200), whatever Range asked; records the Range headers seen.
    private static Func<HttpContext, Task> Whole(ConcurrentQueue<string> ranges) => async context =>
    {
        ranges.Enqueue(context.Request.Headers.Range.ToString());
        context.Response.ContentLength = Content.Length;
        if (context.Request.Method == "GET")
        {
            await context.Response.Body.WriteAsync(Content, context.RequestAborted);
        }
    };

    [Theory]
    [MemberData(nameof(Ranges))]
    public async Task HttpMirrorsThatIgnoreRangeStillYieldTheRange(long offset, long? length)
    {
        var ranges = new ConcurrentQueue<string>();
        await using var server = await HostileServer.StartAsync("127.0.0.1", Whole(ranges));
        using var store = new HttpStore(server.Origin + "/mirror");
        await AssertRangeAsync(await store.OpenReadRangeAsync("blobs/x", offset, length, Token), offset, length);
        Assert.True(length == 0 || ranges.Any(r => r.StartsWith($"bytes={offset}-", StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(Ranges))]
    public async Task RegistriesThatIgnoreRangeStillYieldTheRange(long offset, long? length)
    {
        var ranges = new ConcurrentQueue<string>();
        await using var server = await HostileServer.StartAsync("127.0.0.1", Whole(ranges));
        using var store = new OciStore(OciReference.Parse($"oci+http://{server.Authority}/repo"));
        var key = $"blobs/sha256/{Digest[7..9]}/{Digest[7..]}";
        await AssertRangeAsync(await store.OpenReadRangeAsync(key, offset, length, Token), offset, length);
        Assert.True(length == 0 || ranges.Any(r => r.StartsWith($"bytes={offset}-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AStartPastTheEndOfAWholeAnswerIsRefusedWithTheSize()
    {
        await using var server = await HostileServer.StartAsync("127.0.0.1", Whole([]));
        using var store = new HttpStore(server.Origin + "/mirror");
        var e = await Assert.ThrowsAsync<RangeNotSatisfiableException>(
            () => store.OpenReadRangeAsync("blobs/x", Content.Length + 1, null, Token));
        Assert.Equal(Content.Length, e.Size);
    }

    [Fact]
    public async Task APartialAnswerForAnotherRangeIsRefused()
    {
        await using var server = await HostileServer.StartAsync("127.0.0.1", async context =>
        {
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes 0-9/{Content.Length}";
            context.Response.ContentLength = 10;
            await context.Response.Body.WriteAsync(Content.AsMemory(0, 10), context.RequestAborted);
        });
        using var http = new HttpStore(server.Origin + "/mirror");
        var e = await Assert.ThrowsAsync<DepotException>(() => http.OpenReadRangeAsync("blobs/x", 100, 10, Token));
        Assert.Contains("from 100", e.Message, StringComparison.Ordinal);
        using var registry = new OciStore(OciReference.Parse($"oci+http://{server.Authority}/repo"));
        var key = $"blobs/sha256/{Digest[7..9]}/{Digest[7..]}";
        await Assert.ThrowsAsync<InvalidContentException>(() => registry.OpenReadRangeAsync(key, 100, 10, Token));
    }

    private static async Task AssertRangeAsync(Stream read, long offset, long? length)
    {
        await using (read)
        {
            using var copy = new MemoryStream();
            await read.CopyToAsync(copy, Token);
            var end = Math.Min(Content.Length, offset + (length ?? Content.Length));
            Assert.Equal(Content.AsSpan((int)offset, (int)(end - offset)).ToArray(), copy.ToArray());
        }
    }
}
