using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Depot.Storage;

/// <summary>
/// A read-only mirror over plain HTTP(S), as Spack users serve caches with a web server or a CDN. HTTP cannot list
/// folders, so listing answers only the well-known index and layout files (operations then work from the index, as
/// Spack does over HTTP). Indexes are fetched with conditional GETs (ETag / Last-Modified) into a local cache and
/// reused without asking for <c>ttl</c> (Spack's <c>binary_index_ttl</c>, default 600 s). Requests are retried with
/// exponential backoff and jitter on throttling and transient errors.
/// </summary>
public sealed class HttpStore : IObjectStore, IDisposable
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

    /// <summary>Opens <paramref name="url"/>; <paramref name="cacheFolder"/> keeps index copies between runs (null: none).</summary>
    public HttpStore(string url, string? cacheFolder = null, TimeSpan? ttl = null, HttpMessageHandler? handler = null)
    {
        baseUri = new Uri(url.TrimEnd('/') + "/");
        this.cacheFolder = cacheFolder;
        this.ttl = ttl ?? TimeSpan.FromSeconds(600);
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new HttpRetryStrategyOptions { MaxRetryAttempts = 4, BackoffType = DelayBackoffType.Exponential, UseJitter = true, Delay = TimeSpan.FromMilliseconds(200) })
            .AddTimeout(TimeSpan.FromSeconds(100))
            .Build();
        http = new HttpClient(new ResilienceHandler(pipeline) { InnerHandler = handler ?? new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None } })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("depot/0.1");
        Root = baseUri.ToString().TrimEnd('/');
    }

    public string Root { get; }

    public bool CanList => false;

    /// <summary>Requests sent (tests count conditional GETs with it).</summary>
    public int Requests { get; private set; }

    public string Describe(string key) => new Uri(baseUri, key).ToString();

    public async IAsyncEnumerable<StoreObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var key in WellKnown.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
        {
            if (await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is { } found)
            {
                yield return found;
            }
        }
    }

    public async Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Head, key, null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Check(response, key);
        return new StoreObject(key, response.Content.Headers.ContentLength ?? 0, response.Content.Headers.LastModified, response.Headers.ETag?.ToString());
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(HttpMethod.Get, key, null, cancellationToken, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw new StoreObjectNotFoundException(Describe(key));
        }

        Check(response, key);
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Small reads; well-known index files come from the local cache when fresh, else with a conditional GET.</summary>
    public async Task<byte[]> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken = default)
    {
        if (cacheFolder is null || !WellKnown.Contains(key))
        {
            await using var stream = await OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
            return await ObjectStoreExtensions.ReadBoundedAsync(stream, Describe(key), maxBytes, cancellationToken).ConfigureAwait(false);
        }

        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Describe(key))));
        var body = Path.Combine(cacheFolder, name);
        var validator = body + ".etag";
        if (File.Exists(body) && DateTime.UtcNow - File.GetLastWriteTimeUtc(body) < ttl)
        {
            return await File.ReadAllBytesAsync(body, cancellationToken).ConfigureAwait(false);
        }

        using var response = await SendAsync(HttpMethod.Get, key, File.Exists(body) && File.Exists(validator) ? await File.ReadAllTextAsync(validator, cancellationToken).ConfigureAwait(false) : null,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotModified)
        {
            File.SetLastWriteTimeUtc(body, DateTime.UtcNow);
            return await File.ReadAllBytesAsync(body, cancellationToken).ConfigureAwait(false);
        }

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new StoreObjectNotFoundException(Describe(key));
        }

        Check(response, key);
        await using var content = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var bytes = await ObjectStoreExtensions.ReadBoundedAsync(content, Describe(key), maxBytes, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(cacheFolder);
        var temp = body + "." + Guid.NewGuid().ToString("N")[..8];
        await File.WriteAllBytesAsync(temp, bytes, cancellationToken).ConfigureAwait(false);
        File.Move(temp, body, overwrite: true);
        var etag = response.Headers.ETag?.ToString() ?? response.Content.Headers.LastModified?.ToString("R");
        if (etag is not null)
        {
            await File.WriteAllTextAsync(validator, etag, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            File.Delete(validator);
        }

        return bytes;
    }

    public Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default) => throw ReadOnly(key);

    public Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion, CancellationToken cancellationToken = default) => throw ReadOnly(key);

    public Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default) => throw ReadOnly("");

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => throw ReadOnly(key);

    public void Dispose() => http.Dispose();

    private DepotException ReadOnly(string key) =>
        new($"{Describe(key)}: HTTP mirrors are read-only; write to the storage behind the web server (a directory, s3://, azure://)");

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string key, string? validator, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(method, new Uri(baseUri, StoreKeys.Check(key, Root)));
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
            return await http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new DepotException($"{Describe(key)}: cannot reach the server: {e.Message}", e);
        }
    }

    private void Check(HttpResponseMessage response, string key)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new DepotException($"{Describe(key)}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}" +
                (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? " (the server wants credentials Depot was not given)" : ""));
        }
    }
}
