using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Depot.Storage;

/// <summary>
/// A read-only mirror over plain HTTP(S), as Spack users serve caches with a web server or a CDN: only
/// <see cref="IStoreReader"/>, as HTTP can neither list folders nor write (layouts then work from the index, as Spack
/// does over HTTP). Indexes are fetched with conditional GETs (ETag / Last-Modified) into a local cache and
/// reused without asking for <c>ttl</c> (Spack's <c>binary_index_ttl</c>, default 600 s). Requests are retried with
/// exponential backoff and jitter on throttling and transient errors. The server is not trusted for size or time:
/// reads are capped before anything is buffered, bodies fail when they stall, and every URL stays under the mirror's.
/// </summary>
public sealed class HttpStore : IStoreReader, IDisposable
{
    // Files whose content changes in place: cached with validators. Everything else is content-addressed or per-spec.
    private static readonly string[] WellKnown =
    [
        "v3/layout.json", "v3/manifests/index/index.manifest.json", "v3/manifests/key/keys.manifest.json",
        "build_cache/index.json", "build_cache/index.json.hash", "build_cache/_pgp/index.json",
    ];

    private readonly HttpClient http;
    private readonly Uri baseUri;
    private readonly string? cacheFolder;
    private readonly TimeSpan ttl;

    /// <summary>
    /// Opens <paramref name="url"/>; <paramref name="cacheFolder"/> keeps index copies between runs (null: none);
    /// <paramref name="idleTimeout"/> is how long a body may stall, or the server take to answer (null: 60 s).
    /// </summary>
    public HttpStore(string url, string? cacheFolder = null, TimeSpan? ttl = null, HttpMessageHandler? handler = null,
        TimeSpan? idleTimeout = null)
    {
        baseUri = new Uri(url.TrimEnd('/') + "/");
        this.cacheFolder = cacheFolder;
        this.ttl = ttl ?? TimeSpan.FromSeconds(600);
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(HttpBodies.RetryOptions(TimeSpan.FromMilliseconds(200))).Build();
        var transport = handler ?? new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None };
        http = new HttpClient(new ResilienceHandler(pipeline)
        {
            InnerHandler = new IdleTimeoutHandler(idleTimeout ?? HttpBodies.DefaultIdleTimeout)
            {
                InnerHandler = transport,
            },
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("depot/0.1");
        Root = baseUri.ToString().TrimEnd('/');
    }

    public string Root { get; }

    /// <summary>Requests sent (tests count conditional GETs with it).</summary>
    public int Requests { get; private set; }

    public string Describe(string key) => baseUri + key;

    public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
        HeadAsync(key, cancellationToken);

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var response = await GetFoundAsync(key, null, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A GET with a <c>Range</c> header. 206: the body is the range, whose <c>Content-Range</c> must start at the
    /// offset; 200, from a server that ignores ranges: the whole body, skipped forward and cut; 416: the object's
    /// size (a HEAD) says whether that is an empty range or a wrong one.
    /// </summary>
    public async Task<Stream> OpenReadRangeAsync(string key, long offset, long? length,
        CancellationToken cancellationToken = default)
    {
        StoreRange.CheckArguments(offset, length);
        if (length == 0)
        {
            return await StoreRange.ResolveEmptyAsync(this, key, offset, cancellationToken).ConfigureAwait(false);
        }

        var response = await SendAsync(HttpMethod.Get, key, null, cancellationToken,
            new RangeHeaderValue(offset, offset + length - 1)).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            var missing = response.StatusCode == HttpStatusCode.NotFound;
            response.Dispose();
            return missing ? throw new StoreObjectNotFoundException(Describe(key))
                : await StoreRange.ResolveEmptyAsync(this, key, offset, cancellationToken).ConfigureAwait(false);
        }

        Check(response, key);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.PartialContent)
            {
                await StoreRange.SkipAsync(body, offset, Describe(key), cancellationToken).ConfigureAwait(false);
                return new LengthLimitedStream(body, length ?? long.MaxValue, response);
            }

            var sent = response.Content.Headers.ContentRange;
            if (sent?.From != offset)
            {
                throw new DepotException(ErrorKind.IO, $"{Describe(key)}: asked for bytes from {offset}, the server "
                    + $"sent {(sent is null ? "a partial answer without Content-Range" : $"bytes {sent.From}-")}");
            }

            var sentLength = sent.To - sent.From + 1;
            return new LengthLimitedStream(body, Math.Min(length ?? long.MaxValue, sentLength ?? long.MaxValue),
                response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Small reads, capped at <paramref name="maxBytes"/> before anything is buffered; well-known index files come from
    /// the local cache when fresh, else with a conditional GET, streamed into the cache as they arrive.
    /// </summary>
    public async Task<byte[]> ReadAllBytesAsync(string key, long maxBytes,
        CancellationToken cancellationToken = default)
    {
        if (cacheFolder is null || !WellKnown.Contains(key))
        {
            using var found = await GetFoundAsync(key, null, cancellationToken).ConfigureAwait(false);
            return await HttpBodies.ReadAsync(found, Describe(key), maxBytes, cancellationToken).ConfigureAwait(false);
        }

        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Describe(key))));
        var body = Path.Combine(cacheFolder, name);
        var validator = body + ".etag";
        if (File.Exists(body) && DateTime.UtcNow - File.GetLastWriteTimeUtc(body) < ttl)
        {
            return await ReadCachedAsync(body, key, maxBytes, cancellationToken).ConfigureAwait(false);
        }

        using var response = await GetFoundAsync(key,
            File.Exists(body) && File.Exists(validator)
                ? await File.ReadAllTextAsync(validator, cancellationToken).ConfigureAwait(false) : null,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotModified)
        {
            File.SetLastWriteTimeUtc(body, DateTime.UtcNow);
            return await ReadCachedAsync(body, key, maxBytes, cancellationToken).ConfigureAwait(false);
        }

        // Into a temporary file first: a body over the cap is refused without ever being in memory, or in the cache.
        Directory.CreateDirectory(cacheFolder);
        var temp = body + "." + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await HttpBodies.CopyToFileAsync(response, temp, Describe(key), maxBytes, cancellationToken)
                .ConfigureAwait(false);
            File.Move(temp, body, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }

        var etag = response.Headers.ETag?.ToString() ?? response.Content.Headers.LastModified?.ToString("R");
        if (etag is not null)
        {
            await File.WriteAllTextAsync(validator, etag, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            File.Delete(validator);
        }

        return await File.ReadAllBytesAsync(body, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => http.Dispose();

    private async Task<byte[]> ReadCachedAsync(string path, string key, long maxBytes,
        CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new DepotException($"{Describe(key)}: the server answered 304 Not Modified to a request without a "
                + "validator");
        }

        return info.Length <= maxBytes
            ? await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false)
            : throw new InvalidContentException(Describe(key), $"larger than the {maxBytes >> 20} MiB allowed here");
    }

    private async Task<StoreObject?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Head, key, null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Check(response, key);
        return new StoreObject(key, response.Content.Headers.ContentLength ?? 0, response.Content.Headers.LastModified,
            response.Headers.ETag?.ToString());
    }

    /// <summary>A GET whose body is left unread (the caller reads it, capped): 404 is
    /// <see cref="StoreObjectNotFoundException"/>, other errors a message.</summary>
    private async Task<HttpResponseMessage> GetFoundAsync(string key, string? validator,
        CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, key, validator, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw new StoreObjectNotFoundException(Describe(key));
        }

        if (response.StatusCode != HttpStatusCode.NotModified)
        {
            Check(response, key);
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string key, string? validator,
        CancellationToken cancellationToken, RangeHeaderValue? range = null)
    {
        using var request = new HttpRequestMessage(method, Url(key));
        request.Headers.Range = range;
        if (validator is not null)
        {
            if (validator.StartsWith('"') || validator.StartsWith("W/", StringComparison.Ordinal))
            {
                request.Headers.TryAddWithoutValidation("If-None-Match", validator);
            }
            else
            {
                request.Headers.TryAddWithoutValidation("If-Modified-Since", validator);
            }
        }

        Requests++;
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new DepotException(ErrorKind.IO, $"{Describe(key)}: cannot reach the server: {e.Message}", e);
        }
    }

    /// <summary>
    /// The URL of a key, checked after encoding: web servers decode <c>%2e%2e</c> or <c>%2f</c> before resolving a
    /// path, so the key must pass the key rule decoded too, and the URL built must stay under the mirror's path.
    /// </summary>
    private Uri Url(string key)
    {
        StoreKeys.Check(key, Root);
        var decoded = key;
        for (var i = 0; i < 3 && decoded.Contains('%', StringComparison.Ordinal); i++)
        {
            decoded = Uri.UnescapeDataString(decoded); // servers and proxies have been known to decode twice
        }

        if (decoded != key)
        {
            try
            {
                StoreKeys.Check(decoded, Root);
            }
            catch (DepotException)
            {
                throw new DepotException($"invalid object key '{key}' in {Root}: a server reads it as '{decoded}'");
            }
        }

        return Uri.TryCreate(baseUri, key, out var url) && HttpBodies.SameOrigin(url, baseUri)
            && url.AbsolutePath.StartsWith(baseUri.AbsolutePath, StringComparison.Ordinal) && url.Query.Length == 0
                && url.Fragment.Length == 0
            ? url
            : throw new DepotException($"invalid object key '{key}' in {Root}: its URL {url?.ToString() ?? "(none)"} "
                + "is not under the mirror's");
    }

    private void Check(HttpResponseMessage response, string key)
    {
        if (!response.IsSuccessStatusCode)
        {
            var message = $"{Describe(key)}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}" +
                (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    ? " (the server wants credentials Depot was not given)" : "")
                + HttpBodies.RetryAfterNote(response);
            var kind = ErrorKinds.OfHttpStatus(response.StatusCode);
            response.Dispose();
            throw new DepotException(kind, message);
        }
    }
}
