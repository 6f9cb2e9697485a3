using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Depot.Serving;
using Depot.Storage.S3;
using Depot.Tests.Storage;

namespace Depot.Tests.Server;

/// <summary>
/// What Spack (or any HTTP client) meets reading a served cache: conditional and ranged GETs, HEAD, freshness per
/// kind of key, large blobs streamed, an S3-backed cache, and the refusals (unknown cache, private cache, writes).
/// </summary>
public sealed class ReadPathTests(S3rver s3) : IClassFixture<S3rver>, IDisposable
{
    private const string Text = "0123456789abcdefghijklmnopqrstuvwxyz";
    private static readonly string Digest = Convert.ToHexStringLower(SHA256.HashData("blob"u8));
    private static readonly string BlobKey = $"blobs/sha256/{Digest[..2]}/{Digest}";
    private readonly TempDir mirror = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => mirror.Dispose();

    private async Task<RunningServer> StartAsync()
    {
        Write(BlobKey, "blob");
        Write("v3/manifests/spec/zlib-1.3-abc.spec.manifest.json", Text);
        Write("v3/manifests/index/index.manifest.json", "{}");
        Write("build_cache/index.json", "{}");
        return await RunningServer.StartAsync(mirror.Path);
    }

    private void Write(string key, string content)
    {
        var path = mirror.Combine(key.Split('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private static string Url(RunningServer server, string key) => $"{server.Server.Caches.All[0].Name}/{key}";

    [Fact]
    public async Task AnETagComesBackAsNotModifiedWithoutABody()
    {
        await using var server = await StartAsync();
        foreach (var key in new[] { BlobKey, "build_cache/index.json" })
        {
            var first = await server.Client.GetAsync(Url(server, key), Token);
            var etag = first.Headers.ETag;
            Assert.NotNull(etag);
            using var again = new HttpRequestMessage(HttpMethod.Get, Url(server, key));
            again.Headers.IfNoneMatch.Add(etag);
            var second = await server.Client.SendAsync(again, Token);

            Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
            Assert.Empty(await second.Content.ReadAsByteArrayAsync(Token));
            Assert.Equal(etag, second.Headers.ETag);
        }

        var blob = await server.Client.GetAsync(Url(server, BlobKey), Token);
        Assert.Equal($"\"sha256:{Digest}\"", blob.Headers.ETag?.Tag);
        using var other = new HttpRequestMessage(HttpMethod.Get, Url(server, BlobKey));
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"sha256:0000\""));
        Assert.Equal(HttpStatusCode.OK, (await server.Client.SendAsync(other, Token)).StatusCode);
    }

    [Fact]
    public async Task HeadHasTheHeadersOfAGetAndNoBody()
    {
        await using var server = await StartAsync();
        var key = "v3/manifests/spec/zlib-1.3-abc.spec.manifest.json";
        using var head = new HttpRequestMessage(HttpMethod.Head, Url(server, key));
        var response = await server.Client.SendAsync(head, Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Text.Length, response.Content.Headers.ContentLength);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal("bytes", response.Headers.AcceptRanges.Single());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Token));
    }

    [Theory]
    [InlineData("bytes=0-9", "0123456789", "bytes 0-9/36")]
    [InlineData("bytes=-5", "vwxyz", "bytes 31-35/36")]
    [InlineData("bytes=30-", "uvwxyz", "bytes 30-35/36")]
    [InlineData("bytes=34-100", "yz", "bytes 34-35/36")]
    public async Task OneRangeIsPartialContent(string range, string body, string contentRange)
    {
        await using var server = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get,
            Url(server, "v3/manifests/spec/zlib-1.3-abc.spec.manifest.json"));
        request.Headers.TryAddWithoutValidation("Range", range);
        var response = await server.Client.SendAsync(request, Token);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync(Token));
        Assert.Equal(contentRange, response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task ARangePastTheEndIs416WithTheSizeAndAStaleIfRangeGetsTheWholeObject()
    {
        await using var server = await StartAsync();
        var url = Url(server, "v3/manifests/spec/zlib-1.3-abc.spec.manifest.json");
        using var past = new HttpRequestMessage(HttpMethod.Get, url);
        past.Headers.TryAddWithoutValidation("Range", "bytes=36-");
        var refused = await server.Client.SendAsync(past, Token);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, refused.StatusCode);
        Assert.Equal("bytes */36", refused.Content.Headers.ContentRange?.ToString());

        using var stale = new HttpRequestMessage(HttpMethod.Get, url);
        stale.Headers.TryAddWithoutValidation("Range", "bytes=0-9");
        stale.Headers.TryAddWithoutValidation("If-Range", "\"not-its-etag\"");
        var whole = await server.Client.SendAsync(stale, Token);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(Text, await whole.Content.ReadAsStringAsync(Token));

        var etag = (await server.Client.GetAsync(url, Token)).Headers.ETag!.Tag;
        using var current = new HttpRequestMessage(HttpMethod.Get, url);
        current.Headers.TryAddWithoutValidation("Range", "bytes=0-9");
        current.Headers.TryAddWithoutValidation("If-Range", etag);
        Assert.Equal(HttpStatusCode.PartialContent, (await server.Client.SendAsync(current, Token)).StatusCode);
    }

    [Theory]
    [InlineData("blob", "public, max-age=31536000, immutable")]
    [InlineData("build_cache/index.json", "public, no-cache")]
    [InlineData("v3/manifests/index/index.manifest.json", "public, no-cache")]
    [InlineData("v3/manifests/spec/zlib-1.3-abc.spec.manifest.json", "public, max-age=60")]
    public async Task CacheControlSaysHowLongEachKindOfKeyStaysFresh(string key, string expected)
    {
        await using var server = await StartAsync();
        var response = await server.Client.GetAsync(Url(server, key == "blob" ? BlobKey : key), Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task A20MegabyteBlobIsStreamedFromTheStoreNotReadWholeBeforeTheAnswerStarts()
    {
        var data = RandomNumberGenerator.GetBytes(20 << 20);
        var digest = Convert.ToHexStringLower(SHA256.HashData(data));
        var path = mirror.Combine("blobs", "sha256", digest[..2], digest);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, data, Token);
        await using var server = await RunningServer.StartAsync(mirror.Path);
        var url = $"{server.Server.Caches.All[0].Name}/blobs/sha256/{digest[..2]}/{digest}";

        using var response = await server.Client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, Token);
        await using var body = await response.Content.ReadAsStreamAsync(Token);
        var first = new byte[64 << 10];
        await body.ReadExactlyAsync(first, Token);

        // Rewrite the blob's last 4 MiB in place now that the answer has started. A server that had read the blob
        // before answering sends the old bytes; one streaming from the store reaches that part only now (the socket
        // and Kestrel's buffers hold a few MiB at most while the client holds back) and sends the new ones.
        var tail = RandomNumberGenerator.GetBytes(4 << 20);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.Seek(data.Length - tail.Length, SeekOrigin.Begin);
            await file.WriteAsync(tail, Token);
        }

        var received = new MemoryStream();
        received.Write(first);
        await body.CopyToAsync(received, Token);

        Assert.Equal(data.Length, received.Length);
        Assert.Equal(data.AsSpan(0, 1 << 20), received.GetBuffer().AsSpan(0, 1 << 20));
        Assert.True(tail.AsSpan().SequenceEqual(received.GetBuffer().AsSpan(data.Length - tail.Length, tail.Length)),
            "the blob's end was sent as it was before the answer started: it was read whole first");
        Assert.Equal(data.Length, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task AnS3BackedCacheIsServedWholeAndByRange()
    {
        var prefix = "serve-" + Guid.NewGuid().ToString("N")[..8];
        var store = new S3Store(S3rver.Bucket, prefix, new S3StoreOptions(s3.Endpoint, "S3RVER", "S3RVER"));
        await store.WriteAsync("build_cache/index.json", new MemoryStream("{\"database\": {}}"u8.ToArray()), Token);
        var variables = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = s3.Endpoint,
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
            ["AWS_REGION"] = "us-east-1",
        };
        var config = ServeConfig.ZeroConfig([$"s3://{S3rver.Bucket}/{prefix}"], "127.0.0.1:0", "/nonexistent");
        await using var server = await RunningServer.StartAsync(config, variables);

        Assert.Equal(prefix, server.Server.Caches.All[0].Name);
        var whole = await server.Client.GetAsync($"{prefix}/build_cache/index.json", Token);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("{\"database\": {}}", await whole.Content.ReadAsStringAsync(Token));
        Assert.NotNull(whole.Headers.ETag);
        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"{prefix}/build_cache/index.json");
        ranged.Headers.TryAddWithoutValidation("Range", "bytes=2-9");
        var part = await server.Client.SendAsync(ranged, Token);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal("database", await part.Content.ReadAsStringAsync(Token));
        Assert.Equal(HttpStatusCode.NotFound,
            (await server.Client.GetAsync($"{prefix}/build_cache/none.json", Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("readyz", Token)).StatusCode);
    }

    [Fact]
    public async Task AnUnknownCacheIs404APrivateOneAsksForATokenAndAZeroConfigCacheRefusesWritesWith405()
    {
        Write("index.json", "{}");
        var config = new ServeConfig(["127.0.0.1:0"], null, "/nonexistent", new ServeLimits(),
            [new ServedCacheConfig("open", mirror.Path) { Public = true, ReadOnly = true },
                new ServedCacheConfig("closed", mirror.Path)], null);
        await using var server = await RunningServer.StartAsync(config);

        var unknown = await server.Client.GetAsync("nothere/index.json", Token);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no cache named nothere", await unknown.Content.ReadAsStringAsync(Token),
            StringComparison.Ordinal);

        var closed = await server.Client.GetAsync("closed/index.json", Token);
        Assert.Equal(HttpStatusCode.Unauthorized, closed.StatusCode);
        Assert.NotEmpty(closed.Headers.WwwAuthenticate);

        var put = await server.Client.PutAsync("open/index.json", new StringContent("{}"), Token);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal(["GET", "HEAD"], put.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Contains("read-only", await put.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal("{}", await server.Client.GetStringAsync("open/index.json", Token));
    }
}
