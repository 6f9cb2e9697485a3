using System.Net;
using System.Net.Http.Headers;
using Depot.Cli;
using Depot.Configuration;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;
using Depot.Storage;

namespace Depot.Tests.Server;

/// <summary>
/// An index rewritten with the same bytes keeps its ETag (as on S3, whose ETag is an MD5 of the bytes). Real Spack
/// 1.2 and 0.21 name their cached index after its content hash and, on a new ETag, store the index again under that
/// same name and then delete the "old" one: the copy just stored. Every later Spack command then failed with "error
/// parsing database at …/indices/…json: No such file" until `spack clean -m` (seen with `depot serve` over a folder
/// whose index was rewritten unchanged).
/// </summary>
public sealed class IndexETagTests : IAsyncDisposable
{
    private readonly TempDir home = new();
    private readonly TempDir mirror = new();
    private readonly HttpClient http = new();
    private DepotServer? server;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        if (server is not null)
        {
            await server.StopAsync(CancellationToken.None);
            await server.DisposeAsync();
        }

        mirror.Dispose();
        home.Dispose();
    }

    [Theory]
    [InlineData("v3/manifests/index/index.manifest.json")]
    [InlineData("build_cache/index.json")]
    [InlineData("build_cache/index.json.hash")]
    public async Task AnIndexRewrittenUnchangedKeepsItsETagAndAChangedOneGetsANewOne(string key)
    {
        var path = Path.Combine(mirror.Path, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, """{"database": {"version": "8", "installs": {}}}""", Token);
        var url = await StartAsync(key);

        var first = await ETagAsync(url, null);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.StartsWith("\"sha256:", first.ETag, StringComparison.Ordinal);

        // The same bytes written again, an hour later: a new file (inode, time), the same content.
        File.Delete(path);
        await File.WriteAllTextAsync(path, """{"database": {"version": "8", "installs": {}}}""", Token);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(1));
        Assert.Equal(first.ETag, (await ETagAsync(url, null)).ETag);
        Assert.Equal(HttpStatusCode.NotModified, (await ETagAsync(url, first.ETag)).Status);

        await File.WriteAllTextAsync(path, """{"database": {"version": "8", "installs": {"x": {}}}}""", Token);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(2));
        var changed = await ETagAsync(url, first.ETag);
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.NotEqual(first.ETag, changed.ETag);
    }

    [Fact]
    public async Task AManifestThatIsNoIndexKeepsTheStoreVersionAsItsETag()
    {
        const string key = "v3/manifests/spec/greet/greet-1.0.0-abc.spec.manifest.json";
        var path = Path.Combine(mirror.Path, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, "{}", Token);
        var url = await StartAsync(key);

        var etag = (await ETagAsync(url, null)).ETag;

        Assert.DoesNotContain("sha256:", etag, StringComparison.Ordinal);
    }

    private async Task<Uri> StartAsync(string key)
    {
        var engine = new EngineContext(new DepotHome(home.Path), ShippedStores.Providers);
        var config = ServeConfig.ZeroConfig([mirror.Path], "127.0.0.1:0", Path.Combine(home.Path, "tokens.json"));
        server = DepotServer.Create(ServedCaches.Open(engine, config));
        await server.StartAsync(Token);
        return new Uri(server.CacheUrls[0].Url, key);
    }

    private async Task<(HttpStatusCode Status, string ETag)> ETagAsync(Uri url, string? ifNoneMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (ifNoneMatch is not null)
        {
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Parse(ifNoneMatch));
        }

        using var response = await http.SendAsync(request, Token);
        return (response.StatusCode, response.Headers.ETag?.ToString() ?? "");
    }
}
