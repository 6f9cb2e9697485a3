using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Depot.Storage;

/// <summary>What a Depot server says of one of its caches (<c>GET /CACHE/_depot/v1/info</c>).</summary>
/// <param name="Layout">The layout its entries are written in (3 or 2).</param>
/// <param name="Signing">
/// <c>client</c>: entries must come signed by a key the cache trusts; <c>server</c>: it signs what it receives;
/// <c>none</c>: unsigned entries are accepted.
/// </param>
/// <param name="AllowUnsigned">Whether unsigned entries are accepted at all.</param>
/// <param name="Scope">What the token sent may do (<c>read</c>, <c>push</c>, <c>admin</c>).</param>
/// <param name="MaxBodyBytes">The largest body it takes in one request.</param>
public sealed record DepotServerInfo(int Layout, string Signing, bool AllowUnsigned, string Scope, long MaxBodyBytes);

/// <summary>
/// The upload API of a cache served by <c>depot serve</c> (<c>/CACHE/_depot/v1/</c>): which blobs it lacks, blob
/// uploads (sha256-checked by the server, resumed after a broken connection), and manifest commits, after which the
/// server has updated the cache's index itself. Got from <see cref="HttpStore.GetDepotServerAsync"/>, sharing its
/// connection and token. Requests carry the token to this origin only (every URL is under the cache's).
/// </summary>
public sealed class DepotServerApi
{
    /// <summary>Digests asked about in one request (the server's limit).</summary>
    public const int MissingBatch = 10_000;

    private const int UploadAttempts = 5;
    private readonly HttpClient http;
    private readonly Uri api;
    private readonly HttpStore store;

    internal DepotServerApi(HttpClient http, Uri cacheUri, HttpStore store, DepotServerInfo info)
    {
        this.http = http;
        api = new Uri(cacheUri, "_depot/v1/");
        this.store = store;
        Info = info;
    }

    /// <summary>The cache's settings, as read once when the server was recognised.</summary>
    public DepotServerInfo Info { get; }

    /// <summary>The cache's URL, for messages.</summary>
    public string Root => store.Root;

    /// <summary>The sha256 digests (lower-case hex) of <paramref name="sha256"/> the cache does not hold.</summary>
    /// <exception cref="DepotException">The server refused or failed.</exception>
    public async Task<IReadOnlySet<string>> MissingAsync(IEnumerable<string> sha256,
        CancellationToken cancellationToken = default)
    {
        var missing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var batch in sha256.Distinct(StringComparer.Ordinal).Chunk(MissingBatch))
        {
            using var body = new MemoryStream();
            await using (var json = new Utf8JsonWriter(body))
            {
                json.WriteStartObject();
                json.WriteStartArray("digests");
                foreach (var digest in batch)
                {
                    json.WriteStringValue("sha256:" + Hex(digest));
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            using var response = await SendAsync(HttpMethod.Post, "blobs/missing",
                () => new ByteArrayContent(body.ToArray()) { Headers = { ContentType = new("application/json") } },
                cancellationToken).ConfigureAwait(false);
            await CheckAsync(response, "blobs/missing", cancellationToken).ConfigureAwait(false);
            var bytes = await HttpBodies.ReadAsync(response, Describe("blobs/missing"), HttpBodies.ManifestLimit,
                cancellationToken).ConfigureAwait(false);
            try
            {
                using var document = JsonDocument.Parse(bytes);
                foreach (var item in document.RootElement.GetProperty("missing").EnumerateArray())
                {
                    var text = item.GetString() ?? "";
                    missing.Add(text.StartsWith("sha256:", StringComparison.Ordinal) ? text[7..] : text);
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
            {
                throw new InvalidContentException(Describe("blobs/missing"), "not the answer of a Depot server: "
                    + e.Message);
            }
        }

        return missing;
    }

    /// <summary>
    /// Uploads the blob <paramref name="sha256"/>: the <paramref name="length"/> bytes of <paramref name="content"/>
    /// (seekable, read from position 0). When the connection breaks, the server is asked how much it holds and the
    /// rest is sent (<c>Content-Range</c>), a bounded number of times; an unfinished upload is resumed only by the
    /// replica that holds it (another one starts over).
    /// </summary>
    /// <exception cref="DepotException">The server refused the blob (checksum, size) or kept failing.</exception>
    public async Task UploadBlobAsync(string sha256, Stream content, long length,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var path = "blobs/sha256/" + Hex(sha256);
        long offset = 0;
        for (var attempt = 1; ; attempt++)
        {
            var start = offset;
            try
            {
                using var response = await SendAsync(HttpMethod.Put, path, () =>
                {
                    var part = new FileRangeContent(content, start, length - start);
                    part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    if (start > 0)
                    {
                        part.Headers.ContentRange = new ContentRangeHeaderValue(start, length - 1, length);
                    }

                    return part;
                }, cancellationToken).ConfigureAwait(false);
                await CheckAsync(response, path, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (DepotException e) when (attempt < UploadAttempts && e.Kind == ErrorKind.IO
                && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken).ConfigureAwait(false);
                offset = await UploadOffsetAsync(sha256, length, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Commits an entry's metadata (a v3 manifest or a v2 spec file) under <paramref name="key"/>; every blob it
    /// names must be uploaded first. Returns once the server has written it and updated the cache's index.
    /// </summary>
    /// <exception cref="DepotException">
    /// The server refused it: a blob missing (conflict), a signature it does not trust (trust), a token without push.
    /// </exception>
    public async Task PutManifestAsync(string key, byte[] body, CancellationToken cancellationToken = default)
    {
        StoreKeys.Check(key, Root);
        var path = "manifests/" + key;
        using var response = await SendAsync(HttpMethod.Put, path,
            () => new ByteArrayContent(body) { Headers = { ContentType = new("application/octet-stream") } },
            cancellationToken).ConfigureAwait(false);
        await CheckAsync(response, path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refuses, before anything is uploaded, a token the server says may only read.</summary>
    /// <exception cref="DepotException">The token's scope is <c>read</c> (authentication).</exception>
    public void RequirePush()
    {
        if (Info.Scope == "read")
        {
            throw new DepotException(ErrorKind.Authentication, $"{Root}: {store.ReadOnlyTokenProblem}");
        }
    }

    /// <summary>
    /// A blob staged in a private local file; committing it under a <c>blobs/sha256/…</c> key uploads it unless the
    /// cache holds it already.
    /// </summary>
    public IStagedObject CreateStaged() => new StagedUpload(this);

    /// <summary>
    /// Reads the info of the cache at <paramref name="cacheUri"/>: null when no Depot server answers.
    /// </summary>
    /// <exception cref="DepotException">The server refused the token (or wants one), or cannot be reached.</exception>
    internal static async Task<DepotServerApi?> ProbeAsync(HttpClient http, Uri cacheUri, HttpStore store,
        CancellationToken cancellationToken)
    {
        var probe = new DepotServerApi(http, cacheUri, store, new DepotServerInfo(3, "none", true, "read", 0));
        using var response = await probe.SendAsync(HttpMethod.Get, "info", null, cancellationToken)
            .ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            await probe.CheckAsync(response, "info", cancellationToken).ConfigureAwait(false);
        }

        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var bytes = await HttpBodies.ReadAsync(response, probe.Describe("info"), 1 << 20, cancellationToken)
            .ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            var info = new DepotServerInfo(root.GetProperty("layout").GetInt32(),
                root.GetProperty("signing").GetString() ?? "none",
                root.TryGetProperty("allow_unsigned", out var unsigned) && unsigned.GetBoolean(),
                root.TryGetProperty("scope", out var scope) ? scope.GetString() ?? "read" : "read",
                root.TryGetProperty("max_body_bytes", out var max) ? max.GetInt64() : long.MaxValue);
            return new DepotServerApi(http, cacheUri, store, info);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException
            or FormatException)
        {
            return null; // something else answers there: not a Depot server
        }
    }

    private async Task<long> UploadOffsetAsync(string sha256, long length, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await SendAsync(HttpMethod.Head, "uploads/sha256/" + Hex(sha256), null,
                cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode && response.Headers.TryGetValues("Upload-Offset", out var values)
                && long.TryParse(values.FirstOrDefault(), out var held) && held >= 0 && held < length ? held : 0;
        }
        catch (DepotException e) when (e.Kind == ErrorKind.IO)
        {
            return 0; // still unreachable: the next attempt says so, or starts over
        }
    }

    private string Describe(string path) => new Uri(api, path).ToString();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Func<HttpContent>? content,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(api, path));
        request.Content = content?.Invoke();
        store.Authorize(request);
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException
            || e is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new DepotException(ErrorKind.IO, $"{Describe(path)}: {method} failed: {e.Message}", e);
        }
    }

    // The server's own one-line reason ({"error", "kind"}) where it gave one, its kind kept (a refused signature is
    // a trust error, not a login to fix); a refused token names the variable it came from, never its value.
    private async Task CheckAsync(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await HttpBodies.ReadErrorTextAsync(response, cancellationToken).ConfigureAwait(false);
        string? reason = null;
        ErrorKind? kind = null;
        try
        {
            using var document = JsonDocument.Parse(text);
            reason = document.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
            var name = document.RootElement.TryGetProperty("kind", out var k) ? k.GetString() : null;
            kind = Enum.GetValues<ErrorKind>().Where(v => v.Name() == name).Select(v => (ErrorKind?)v)
                .FirstOrDefault();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not the server's JSON (a proxy's page): the status says it.
        }

        var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        if (response.StatusCode is HttpStatusCode.Unauthorized
            || response.StatusCode is HttpStatusCode.Forbidden && kind is null or ErrorKind.Authentication)
        {
            throw new DepotException(ErrorKind.Authentication,
                $"{Describe(path)}: {status}: {store.TokenProblem}" + (reason is null ? "" : $" ({reason})"));
        }

        throw new DepotException(kind ?? ErrorKinds.OfHttpStatus(response.StatusCode),
            $"{Describe(path)}: {status}" + (reason is null ? "" : ": " + reason)
                + HttpBodies.RetryAfterNote(response));
    }

    // Digests are checked before they become part of a URL.
    private static string Hex(string sha256) =>
        sha256.Length == 64 && sha256.All(char.IsAsciiHexDigitLower) ? sha256
            : throw new DepotException(ErrorKind.InvalidContent, $"'{sha256}' is not a sha256 digest");

    /// <summary>A part of a seekable stream as a request body (never disposed with it: a retry re-reads it).</summary>
    private sealed class FileRangeContent(Stream source, long offset, long count) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            await SerializeToStreamAsync(stream, context, CancellationToken.None).ConfigureAwait(false);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context,
            CancellationToken cancellationToken)
        {
            source.Position = offset;
            var buffer = new byte[81920];
            for (var left = count; left > 0;)
            {
                var n = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)),
                    cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException($"the staged blob ended {left} bytes early");
                }

                await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                left -= n;
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = count;
            return true;
        }
    }

    /// <summary>A blob written to a private temp file, uploaded on commit unless the cache has it.</summary>
    private sealed class StagedUpload(DepotServerApi server) : IStagedObject
    {
        private readonly FileStream file = PrivateTemp.CreateFile("depot-upload");

        public Stream Content => file;

        public async Task CommitAsync(string key, CancellationToken cancellationToken = default)
        {
            var parts = key.Split('/');
            if (parts is not ["blobs", "sha256", _, var hex])
            {
                throw new InvalidOperationException($"{key}: a Depot server takes blobs (blobs/sha256/…) only");
            }

            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            if ((await server.MissingAsync([hex], cancellationToken).ConfigureAwait(false)).Count > 0)
            {
                await server.UploadBlobAsync(hex, file, file.Length, cancellationToken).ConfigureAwait(false);
            }
        }

        public ValueTask DisposeAsync() => file.DisposeAsync();
    }
}
