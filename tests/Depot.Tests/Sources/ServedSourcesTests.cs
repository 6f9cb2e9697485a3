using System.Net;
using Depot.Tests.Server;

namespace Depot.Tests.Sources;

/// <summary>
/// <c>depot serve</c> serves a source mirror through its read endpoint, at the paths Spack fetches sources from
/// (<c>/&lt;cache&gt;/_source-cache/archive/…</c>): the bytes, HEAD, and archives as immutable (named by their
/// checksum), checkouts as short-lived.
/// </summary>
public sealed class ServedSourcesTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ArchivesAndCheckoutsAreServedAtTheirKeys()
    {
        using var sources = new FakeSpackSources();
        await using var server = await RunningServer.StartAsync(sources.Cache);
        var cache = server.Server.Caches.All[0].Name;

        foreach (var (key, bytes, _) in sources.Archives)
        {
            var response = await server.Client.GetAsync($"{cache}/{key}", Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync(Token));
            Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());

            using var head = new HttpRequestMessage(HttpMethod.Head, $"{cache}/{key}");
            var headed = await server.Client.SendAsync(head, Token);
            Assert.Equal(HttpStatusCode.OK, headed.StatusCode);
            Assert.Equal(bytes.Length, headed.Content.Headers.ContentLength);
        }

        var checkout = await server.Client.GetAsync($"{cache}/{FakeSpackSources.GitKey}", Token);
        Assert.Equal(HttpStatusCode.OK, checkout.StatusCode);
        Assert.Equal(File.ReadAllBytes(sources.PathOf(FakeSpackSources.GitKey)),
            await checkout.Content.ReadAsByteArrayAsync(Token));
        Assert.Equal("public, max-age=60", checkout.Headers.CacheControl?.ToString());

        var missing = await server.Client.GetAsync($"{cache}/_source-cache/archive/00/"
            + new string('0', 64) + ".tar.gz", Token);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
