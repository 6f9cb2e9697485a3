using Depot.Storage;
using Depot.Storage.Oci;
using Microsoft.AspNetCore.Http;

namespace Depot.Tests.Storage;

/// <summary>Memory is measured as bytes allocated by the whole process, so these tests run alone.</summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class MeasuredMemory;

/// <summary>
/// Oversized answers from a mirror or registry cost no more than 64 MiB of memory: a body announced too large is
/// refused before a byte is read, one streamed past its cap is stopped at the cap without being held in memory.
/// </summary>
[Collection(typeof(MeasuredMemory))]
public sealed class OversizedResponseTests
{
    private const long Budget = 64 << 20;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>What <paramref name="action"/> threw and how many bytes the process allocated meanwhile.</summary>
    private static async Task<(Exception? Error, long Allocated)> MeasureAsync(Func<Task> action)
    {
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var error = await Record.ExceptionAsync(action);
        return (error, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    private static void AssertOneLineRefusal(Exception? error, string expected)
    {
        var refused = Assert.IsType<InvalidContentException>(error);
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public async Task AnHttpIndexTooLargeIsRefusedWithinTheMemoryBudget()
    {
        // 1.5 GB announced: refused unread. 600 MiB streamed without a length: stopped at the 512 MiB cap, in a file.
        await using var server = await HostileServer.StartAsync("127.0.0.1", context =>
            HostileServer.SendZerosAsync(context,
                context.Request.Path.Value!.EndsWith("index.json", StringComparison.Ordinal) ? 1_500_000_000
            : 600L << 20,
                announce: context.Request.Path.Value.EndsWith("index.json", StringComparison.Ordinal)));
        using var cache = new TempDir();
        using var store = new HttpStore(server.Origin + "/mirror", cache.Path);

        var (error,
            allocated) = await MeasureAsync(() =>
                store.ReadAllBytesAsync("build_cache/index.json", cancellationToken: Token));
        Assert.InRange(allocated, 0, Budget);
        AssertOneLineRefusal(error,
            $"{server.Origin}/mirror/build_cache/index.json: the server announces 1500000000 bytes, more than the 512 "
            + "MiB allowed here");

        var blob = "blobs/sha256/aa/" + new string('a', 64);
        (error, allocated) = await MeasureAsync(() => store.ReadAllBytesAsync(blob, cancellationToken: Token));
        Assert.InRange(allocated, 0, Budget);
        AssertOneLineRefusal(error, $"{server.Origin}/mirror/{blob}: larger than the 512 MiB allowed here");
        Assert.Empty(Directory.EnumerateFileSystemEntries(cache.Path, "*",
            SearchOption.AllDirectories)); // nothing half-written in the cache
    }

    [Fact]
    public async Task AnHttpIndexStreamedPastItsCapIsNotCached()
    {
        await using var server = await HostileServer.StartAsync("127.0.0.1",
            context => HostileServer.SendZerosAsync(context, 600L << 20, announce: false));
        using var cache = new TempDir();
        using var store = new HttpStore(server.Origin, cache.Path);

        var (error,
            allocated) = await MeasureAsync(() =>
                store.ReadAllBytesAsync("v3/manifests/index/index.manifest.json", cancellationToken: Token));
        Assert.InRange(allocated, 0, Budget);
        AssertOneLineRefusal(error, "index.manifest.json: larger than the 512 MiB allowed here");
        Assert.Empty(Directory.EnumerateFileSystemEntries(cache.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AnOversizedManifestIsRefusedWithinTheMemoryBudget()
    {
        await using var registry = await HostileServer.StartAsync("127.0.0.1", context =>
            HostileServer.SendZerosAsync(context, 600L << 20,
                announce: context.Request.Path.Value!.EndsWith("/announced", StringComparison.Ordinal)));
        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{registry.Authority}/repo"));

        var (error, allocated) = await MeasureAsync(() => client.GetManifestAsync("announced", Token));
        Assert.InRange(allocated, 0, Budget);
        AssertOneLineRefusal(error,
            $"oci+http://{registry.Authority}/repo/manifests/announced: the server announces 629145600 bytes, more "
            + "than the 4 MiB allowed here");

        (error, allocated) = await MeasureAsync(() => client.GetManifestAsync("streamed", Token));
        Assert.InRange(allocated, 0, Budget);
        AssertOneLineRefusal(error, "repo/manifests/streamed: larger than the 4 MiB allowed here");
    }

    [Fact]
    public async Task ABlobLongerThanItsDescriptorIsStoppedThere()
    {
        // Sent without a length (as a CDN may): the descriptor's size is the limit.
        await using var storage = await HostileServer.StartAsync("127.0.0.1",
            context => HostileServer.SendZerosAsync(context, 600L << 20, announce: false));
        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{storage.Authority}/repo"));
        var digest = OciRegistryClient.Digest(new byte[1000]);

        var (error, allocated) = await MeasureAsync(async () =>
        {
            await using var blob = await client.OpenBlobAsync(digest, 1000, Token);
            await blob.CopyToAsync(Stream.Null, Token);
        });
        Assert.InRange(allocated, 0, Budget);
        AssertOneLineRefusal(error,
            $"oci+http://{storage.Authority}/repo/blobs/{digest}: blob is longer than the 1000 bytes its descriptor "
            + "says");

        // With neither a descriptor nor a Content-Length there is no end to expect: refused before reading.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var unbounded = await Assert.ThrowsAsync<InvalidContentException>(() => client.OpenBlobAsync(digest, null,
            Token));
        Assert.EndsWith("the registry sent a blob without a Content-Length, and no descriptor gives its size",
            unbounded.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AnOversizedTokenIsRefusedAndAnOversizedErrorIsCutShort()
    {
        await using var registry = await HostileServer.StartAsync("127.0.0.1", context =>
        {
            if (context.Request.Path == "/token")
            {
                return HostileServer.SendZerosAsync(context, 100L << 20, announce: false);
            }

            if (context.Request.Path.Value!.EndsWith("/needs-token", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate =
                    $"Bearer realm=\"http://{context.Request.Host}/token\",service=\"test\"";
                return Task.CompletedTask;
            }

            context.Response.StatusCode = 400;
            return HostileServer.SendZerosAsync(context, 600L << 20, announce: false);
        });
        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{registry.Authority}/repo"));

        var (error, allocated) = await MeasureAsync(() => client.GetManifestAsync("needs-token", Token));
        Assert.InRange(allocated, 0, Budget);
        AssertOneLineRefusal(error,
            $"token service http://{registry.Authority}/token: larger than the 1 MiB allowed here");

        (error, allocated) = await MeasureAsync(() => client.GetManifestAsync("error", Token));
        Assert.InRange(allocated, 0, Budget);
        var refused = Assert.IsType<OciRegistryException>(error);
        Assert.StartsWith($"GET http://{registry.Authority}/v2/repo/manifests/error: 400 BadRequest: ", refused.Message,
            StringComparison.Ordinal);
        Assert.InRange(refused.Message.Length, 0, 400);
    }
}
