using System.Globalization;
using System.Text.Json;
using Depot.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Depot.Server;

/// <summary>
/// The push API under <c>/&lt;cache&gt;/_depot/v1/</c> (docs: the API contract): <c>info</c>, which blobs are
/// missing, blob uploads (sha256 checked, resumable in parts), manifest commits (last; the index is updated before the
/// answer). Literal segments make these routes win over the read routes' <c>/{cache}/{**key}</c>.
/// </summary>
internal static class UploadEndpoints
{
    private const string Prefix = "/{cache}/_depot/v1/";

    public static void Map(IEndpointRouteBuilder routes, ServedCaches caches)
    {
        var uploads = new SemaphoreSlim(Math.Max(1, caches.Config.Limits.MaxConcurrentUploads));
        routes.MapGet(Prefix + "info", (HttpContext http, string cache) =>
            RunAsync(http, caches, cache, TokenScope.Read, c => InfoAsync(http, c)));
        routes.MapPost(Prefix + "blobs/missing", (HttpContext http, string cache) =>
            RunAsync(http, caches, cache, TokenScope.Push, c => MissingAsync(http, c)));
        routes.MapPut(Prefix + "blobs/sha256/{hex}", (HttpContext http, string cache, string hex) =>
            RunAsync(http, caches, cache, TokenScope.Push, c => PutBlobAsync(http, c, hex, uploads)));
        routes.MapMethods(Prefix + "uploads/sha256/{hex}", [HttpMethods.Head, HttpMethods.Get],
            (HttpContext http, string cache, string hex) =>
                RunAsync(http, caches, cache, TokenScope.Push, c => UploadOffsetAsync(http, c, hex)));
        routes.MapPut(Prefix + "keys/{fingerprint}", (HttpContext http, string cache, string fingerprint) =>
            RunAsync(http, caches, cache, TokenScope.Admin, c => PublishKeyAsync(http, c, fingerprint)));
        routes.MapPut(Prefix + "manifests/{**key}", (HttpContext http, string cache, string key) =>
            RunAsync(http, caches, cache, TokenScope.Push, c => CommitAsync(http, c, key)));
    }

    private static async Task RunAsync(HttpContext http, ServedCaches caches, string name, TokenScope scope,
        Func<ServedCache, Task> handle)
    {
        if (caches.Find(name) is not { } cache)
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status404NotFound, $"no cache named {name}",
                ErrorKind.NotFound).ConfigureAwait(false);
            return;
        }

        if (scope > TokenScope.Read && cache.Config.ReadOnly)
        {
            http.Response.Headers.Allow = "GET, HEAD";
            await HttpErrors.WriteAsync(http, StatusCodes.Status405MethodNotAllowed,
                $"cache {name} is read-only", ErrorKind.Unsupported).ConfigureAwait(false);
            return;
        }

        if (!await AllowAsync(http, cache, scope).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await handle(cache).ConfigureAwait(false);
        }
        catch (BodyTooLargeException e)
        {
            // The body is left unread: the connection cannot carry another request, and the client must know.
            http.Response.Headers.Connection = "close";
            await HttpErrors.WriteAsync(http, StatusCodes.Status413PayloadTooLarge, e.Message, e.Kind)
                .ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            http.Response.Headers.Connection = "close";
            await HttpErrors.WriteAsync(http, StatusCodes.Status413PayloadTooLarge,
                $"request body over the limit of {caches.Config.Limits.MaxBodyBytes} bytes", ErrorKind.Usage)
                .ConfigureAwait(false);
        }
        catch (DepotException e)
        {
            await HttpErrors.WriteAsync(http, e).ConfigureAwait(false);
        }
    }

    private static Task<bool> AllowAsync(HttpContext http, ServedCache cache, TokenScope scope) =>
        CacheAccess.AllowAsync(http, cache, scope);

    /// <summary>What the request's token may do on <paramref name="cache"/> (read without a usable one).</summary>
    private static TokenScope ScopeOf(HttpContext http, ServedCache cache)
    {
        var (text, _) = CacheAccess.Credential(http.Request);
        var check = text is null ? null : http.RequestServices.GetRequiredService<TokenStore>().Check(text);
        return check is { Status: TokenStatus.Valid, Token: { } token } && token.Cache == cache.Name ? token.Scope
            : TokenScope.Read;
    }

    private static async Task InfoAsync(HttpContext http, ServedCache cache)
    {
        var writes = cache.Writes;
        var layout = cache.Config.ReadOnly ? 3 : await writes.LayoutVersionAsync(http.RequestAborted)
            .ConfigureAwait(false);
        var scope = ScopeOf(http, cache);
        await WriteJsonAsync(http, StatusCodes.Status200OK, json =>
        {
            json.WriteNumber("layout", layout);
            json.WriteString("signing", writes.Signing.ToString().ToLowerInvariant());
            json.WriteBoolean("allow_unsigned", cache.Config.AllowUnsigned);
            json.WriteString("scope", scope.ToString().ToLowerInvariant());
            json.WriteNumber("max_body_bytes", cache.Writes.Blobs.MaxBlobBytes);
            json.WriteBoolean("read_only", cache.Config.ReadOnly);
        }).ConfigureAwait(false);
    }

    private static async Task MissingAsync(HttpContext http, ServedCache cache)
    {
        var digests = new List<string>();
        try
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted)
                .ConfigureAwait(false);
            if (!doc.RootElement.TryGetProperty("digests", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("no 'digests' list");
            }

            foreach (var d in list.EnumerateArray())
            {
                digests.Add(d.GetString() ?? throw new JsonException("a digest is not a string"));
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new DepotException(ErrorKind.Usage,
                $"expected {{\"digests\": [\"sha256:<hex>\", ...]}}: {e.Message}");
        }

        var missing = await cache.Writes.Blobs.FindMissingAsync(digests, http.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(http, StatusCodes.Status200OK, json =>
        {
            json.WriteStartArray("missing");
            foreach (var m in missing)
            {
                json.WriteStringValue(m);
            }

            json.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private static async Task PutBlobAsync(HttpContext http, ServedCache cache, string hex, SemaphoreSlim uploads)
    {
        var blobs = cache.Writes.Blobs;
        if (http.Request.ContentLength is { } length && length > blobs.MaxBlobBytes)
        {
            throw new BodyTooLargeException($"a body of {length} bytes is over the limit of {blobs.MaxBlobBytes}");
        }

        var range = http.Request.Headers.ContentRange.ToString();
        var part = range.Length == 0 ? (UploadPart?)null : UploadPart.Parse(range);
        await uploads.WaitAsync(http.RequestAborted).ConfigureAwait(false);
        try
        {
            var (outcome, offset) = await blobs.UploadAsync(hex, http.Request.Body, part, http.RequestAborted)
                .ConfigureAwait(false);
            http.Response.Headers["Upload-Offset"] = offset.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers.Location = $"/{cache.Name}/{UploadedBlobs.KeyOf(hex)}";
            var status = outcome switch
            {
                BlobUploadOutcome.Stored => StatusCodes.Status201Created,
                BlobUploadOutcome.Partial => StatusCodes.Status202Accepted,
                _ => StatusCodes.Status200OK,
            };
            await WriteJsonAsync(http, status, json =>
            {
                json.WriteString("digest", "sha256:" + hex);
                json.WriteNumber("offset", offset);
                json.WriteBoolean("complete", outcome != BlobUploadOutcome.Partial);
            }).ConfigureAwait(false);
        }
        finally
        {
            uploads.Release();
        }
    }

    private static async Task UploadOffsetAsync(HttpContext http, ServedCache cache, string hex)
    {
        if (cache.Writes.Blobs.UploadOffset(hex) is not { } offset)
        {
            await HttpErrors.WriteAsync(http, StatusCodes.Status404NotFound,
                $"no unfinished upload of sha256:{hex} on this server", ErrorKind.NotFound).ConfigureAwait(false);
            return;
        }

        http.Response.Headers["Upload-Offset"] = offset.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers.CacheControl = "no-store";
        http.Response.StatusCode = StatusCodes.Status200OK;
    }

    private static async Task PublishKeyAsync(HttpContext http, ServedCache cache, string fingerprint)
    {
        using var reader = new StreamReader(http.Request.Body);
        var armored = await reader.ReadToEndAsync(http.RequestAborted).ConfigureAwait(false);
        var published = await cache.Writes.PublishKeyAsync(fingerprint, armored, http.RequestAborted)
            .ConfigureAwait(false);
        await WriteJsonAsync(http, StatusCodes.Status201Created, json => json.WriteString("fingerprint", published))
            .ConfigureAwait(false);
    }

    private static async Task CommitAsync(HttpContext http, ServedCache cache, string key)
    {
        if (http.Request.ContentLength is { } length && length > ManifestCommit.MaxBytes)
        {
            throw new BodyTooLargeException($"a manifest of {length} bytes (at most {ManifestCommit.MaxBytes})");
        }

        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted).ConfigureAwait(false);
        CommitResult result;
        try
        {
            result = await cache.Writes.Manifests.CommitAsync(key, body.GetBuffer().AsMemory(0, (int)body.Length),
                http.RequestAborted).ConfigureAwait(false);
        }
        catch (MissingBlobsException e)
        {
            await WriteJsonAsync(http, StatusCodes.Status409Conflict, json =>
            {
                json.WriteString("error", e.Message);
                json.WriteString("kind", e.Kind.Name());
                json.WriteStartArray("missing");
                foreach (var m in e.Missing)
                {
                    json.WriteStringValue(m);
                }

                json.WriteEndArray();
            }).ConfigureAwait(false);
            return;
        }

        http.Response.Headers.Location = $"/{cache.Name}/{result.Key}";
        await WriteJsonAsync(http, StatusCodes.Status201Created, json =>
        {
            json.WriteString("key", result.Key);
            json.WriteString("hash", result.Hash);
            if (result.SignedBy is { } fpr)
            {
                json.WriteString("signed_by", fpr);
            }
            else
            {
                json.WriteNull("signed_by");
            }

            json.WriteBoolean("signed_by_server", result.SignedByServer);
            json.WriteNumber("indexed_specs", result.IndexedSpecs);
        }).ConfigureAwait(false);
    }

    private static async Task WriteJsonAsync(HttpContext http, int status, Action<Utf8JsonWriter> fields)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            fields(json);
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.Headers.CacheControl = "no-store";
        await http.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), http.RequestAborted)
            .ConfigureAwait(false);
    }
}
