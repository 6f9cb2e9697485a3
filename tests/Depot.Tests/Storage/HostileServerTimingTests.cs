using System.Diagnostics;
using Depot.Storage;
using Depot.Storage.Oci;
using Microsoft.AspNetCore.Http;

namespace Depot.Tests.Storage;

/// <summary>
/// A mirror or registry cannot hold Depot for ever: bodies that stall and answers that never come fail after the idle
/// time, a long <c>Retry-After</c> is reported rather than slept through, and tag lists that loop or never end stop.
/// Keys cannot climb out of an HTTP mirror by being percent-encoded.
/// </summary>
public sealed class HostileServerTimingTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<(Exception? Error, TimeSpan Took)> TimeAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        var error = await Record.ExceptionAsync(action);
        return (error, clock.Elapsed);
    }

    private static Task StallAsync(HttpContext context) =>
        context.Request.Path.Value!.Contains("silent", StringComparison.Ordinal)
        ? Task.Delay(TimeSpan.FromSeconds(60), context.RequestAborted) // never answers
        : HostileServer.TrickleAsync(context,
            """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}""",
            TimeSpan.FromSeconds(3));

    // The lower bound allows for the timers' granularity: a 1 s timer may fire a millisecond early on the stopwatch.
    [Fact]
    public async Task AnHttpMirrorThatStallsFailsAfterTheIdleTime()
    {
        await using var server = await HostileServer.StartAsync("127.0.0.1", StallAsync);
        using var store = new HttpStore(server.Origin, idleTimeout: Idle);

        var (error, took) = await TimeAsync(() => store.ReadAllBytesAsync("v3/layout.json", 1 << 20, Token));
        Assert.Equal($"{server.Origin}/v3/layout.json: no data for 1 s; the server stalled in the middle of the body",
            Assert.IsType<DepotException>(error).Message);
        Assert.InRange(took, Idle * 0.9, TimeSpan.FromSeconds(10));

        (error, took) = await TimeAsync(() => store.GetInfoAsync("v3/silent.json", Token));
        Assert.Equal($"HEAD {server.Origin}/v3/silent.json: no answer within 1 s",
            Assert.IsType<DepotException>(error).Message);
        Assert.InRange(took, Idle * 0.9, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ARegistryThatStallsFailsAfterTheIdleTime()
    {
        await using var registry = await HostileServer.StartAsync("127.0.0.1", StallAsync);
        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{registry.Authority}/repo"),
            new OciClientOptions(IdleTimeout: Idle));

        var (error, took) = await TimeAsync(() => client.GetManifestAsync("slow", Token));
        Assert.Equal($"http://{registry.Authority}/v2/repo/manifests/slow: no data for 1 s; the server stalled in the "
            + "middle of the body", Assert.IsType<DepotException>(error).Message);
        Assert.InRange(took, Idle * 0.9, TimeSpan.FromSeconds(10));

        (error, took) = await TimeAsync(() => client.GetManifestAsync("silent", Token));
        Assert.Equal($"GET http://{registry.Authority}/v2/repo/manifests/silent: no answer within 1 s",
            Assert.IsType<DepotException>(error).Message);
        Assert.InRange(took, Idle * 0.9, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ALongRetryAfterIsReportedAtOnceAndAShortOneIsObeyed()
    {
        var asked = 0;
        await using var server = await HostileServer.StartAsync("127.0.0.1", context =>
        {
            var path = context.Request.Path.Value!;
            if (path.Contains("busy-a-day", StringComparison.Ordinal))
            {
                context.Response.StatusCode = path.Contains("/v2/", StringComparison.Ordinal) ? 429 : 503;
                context.Response.Headers.RetryAfter = "86400";
                return Task.CompletedTask;
            }

            if (Interlocked.Increment(ref asked) == 1)
            {
                context.Response.StatusCode = 503;
                context.Response.Headers.RetryAfter = "1";
                return Task.CompletedTask;
            }

            return context.Response.WriteAsync("{}");
        });
        const string note = "the server asks to retry after 86400 s, longer than the 30 s Depot waits: try again later";
        using var store = new HttpStore(server.Origin);
        var (error, took) = await TimeAsync(() => store.GetInfoAsync("v3/busy-a-day.json", Token));
        Assert.Equal($"{server.Origin}/v3/busy-a-day.json: HTTP 503 Service Unavailable; {note}",
            Assert.IsType<DepotException>(error).Message);
        Assert.InRange(took, TimeSpan.Zero, TimeSpan.FromSeconds(5));

        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{server.Authority}/repo"));
        (error, took) = await TimeAsync(() => client.GetManifestAsync("busy-a-day", Token));
        Assert.EndsWith($": 429 TooManyRequests: (no body); {note}", Assert.IsType<OciRegistryException>(error).Message,
            StringComparison.Ordinal);
        Assert.InRange(took, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(2, server.Requests.Count); // asked once each, not retried

        (error, took) = await TimeAsync(() => store.ReadAllBytesAsync("v3/layout.json", 1 << 20, Token));
        Assert.Null(error);
        Assert.InRange(took, TimeSpan.FromSeconds(0.9),
            TimeSpan.FromSeconds(10)); // waited the second asked for, then read
    }

    [Fact]
    public async Task TagListsThatLoopOrNeverEndAreStopped()
    {
        await using var registry = await HostileServer.StartAsync("127.0.0.1", context =>
        {
            var page = int.TryParse(context.Request.Query["last"], out var last) ? last + 1 : 0;
            context.Response.Headers.Link = context.Request.Path.Value!.StartsWith("/v2/loop/",
                StringComparison.Ordinal)
                ? "</v2/loop/tags/list?n=1000>; rel=\"next\""
                : $"</v2/endless/tags/list?n=1000&last={page}>; rel=\"next\"";
            return context.Response.WriteAsync($"{{\"tags\":[\"t{page}\"]}}");
        });

        async Task<(int Tags, Exception? Error)> ListAsync(string repository)
        {
            using var client =
                new OciRegistryClient(OciReference.Parse($"oci+http://{registry.Authority}/{repository}"),
                    new OciClientOptions(MaxTagPages: 20));
            var count = 0;
            var error = await Record.ExceptionAsync(async () =>
            {
                await foreach (var _ in client.ListTagsAsync(Token))
                {
                    count++;
                }
            });
            return (count, error);
        }

        var (tags, error) = await ListAsync("loop");
        Assert.Equal(1, tags);
        Assert.Equal($"oci+http://{registry.Authority}/loop/tags/list: the next-page Link repeats "
            + "/v2/loop/tags/list?n=1000: the tag list never ends",
            Assert.IsType<InvalidContentException>(error).Message);

        (tags, error) = await ListAsync("endless");
        Assert.Equal(20, tags);
        Assert.Equal($"oci+http://{registry.Authority}/endless/tags/list: more than 20 pages of tags; stopped",
            Assert.IsType<InvalidContentException>(error).Message);
        Assert.Equal(21, registry.Requests.Count);
    }

    [Fact]
    public async Task PercentEncodedDotSegmentsCannotClimbOutOfAnHttpMirror()
    {
        await using var server = await HostileServer.StartAsync("127.0.0.1", context =>
        {
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        });
        using var store = new HttpStore(server.Origin + "/mirror");
        foreach (var key in new[] { "v3/%2e%2e/%2e%2e/secret", "v3/%2E%2E/secret", "%2e%2e/secret",
            "v3/%252e%252e/secret", "v3/a%2f..%2fb", "v3/a%5c..%5c..%5cb", "x:y", "v3/a?b" })
        {
            var e = await Assert.ThrowsAsync<DepotException>(() => store.GetInfoAsync(key, Token));
            Assert.StartsWith($"invalid object key '{key}' in {server.Origin}/mirror", e.Message,
                StringComparison.Ordinal);
            await Assert.ThrowsAsync<DepotException>(() => store.ReadAllBytesAsync(key, 1 << 20, Token));
        }

        Assert.Empty(server.Requests);

        // Percent-encoding that keeps the key inside the mirror is a key like any other.
        Assert.Null(await store.GetInfoAsync("v3/a%20b.json", Token));
        Assert.Equal([("HEAD", "/mirror/v3/a%20b.json", (string?)null)], server.Requests);
    }
}
