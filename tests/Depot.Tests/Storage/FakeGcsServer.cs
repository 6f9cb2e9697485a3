using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Depot.Tests.Storage;

/// <summary>
/// The one fake in the store tests (no GCS emulator exists here): the slice of the GCS JSON API that
/// Google.Cloud.Storage.V1 uses — resumable and multipart uploads, media and metadata GETs, prefix listing with pages,
/// deletes — in memory, on Kestrel at 127.0.0.1. Request bodies may arrive gzip'd, as the client sends metadata.
/// </summary>
public sealed class FakeGcsServer : IAsyncLifetime
{
    private readonly Lock preconditions = new();
    private readonly ConcurrentDictionary<string, (byte[] Data, long Generation, DateTimeOffset Updated)> objects =
        new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Bucket, string Name, MemoryStream Data, string? IfGeneration)>
        sessions = new(StringComparer.Ordinal);
    private WebApplication? app;
    private long generation;

    public string BaseUri { get; private set; } = "";

    /// <summary>The access token the fake's token endpoint hands out; with <see cref="RequireToken"/>, the only one
    /// accepted.</summary>
    public const string AccessToken = "fake-access-token-for-depot";

    public bool RequireToken { get; set; }

    /// <summary>A token the fake's <c>/token/denied</c> grant hands out: valid, but storage answers every request
    /// carrying it with 403 (an account without a role on the bucket).</summary>
    public const string DeniedToken = "fake-token-without-storage-role";

    /// <summary>A token the fake's <c>/token/unknown</c> grant hands out and storage answers with 401 (as Google
    /// answers an expired or revoked token).</summary>
    public const string UnknownToken = "fake-token-storage-does-not-know";

    /// <summary>Token paths for <see cref="WriteServiceAccountKey"/>: granted (<c>/token</c>), granted a token without
    /// permission (<c>/token/denied</c>) or one storage does not accept (<c>/token/unknown</c>), or refused with
    /// <c>invalid_grant</c> as Google refuses a deleted key (<c>/token/refused</c>).</summary>
    public const string DeniedTokenPath = "/token/denied", UnknownTokenPath = "/token/unknown",
        RefusedTokenPath = "/token/refused";

    /// <summary>
    /// Tokens handed out by the fake's metadata server (<c>/computeMetadata/v1/</c>, what <c>GCE_METADATA_HOST</c>
    /// names).
    /// </summary>
    public int MetadataTokenRequests { get; private set; }

    /// <summary>host:port, as <c>GCE_METADATA_HOST</c> names a metadata server.</summary>
    public string HostAndPort => new Uri(BaseUri).Authority;

    /// <summary>Bearer tokens seen on storage requests.</summary>
    public ConcurrentBag<string> BearerTokens { get; } = [];

    /// <summary>A service-account key (a fresh RSA key) whose token endpoint is this fake's: its path.</summary>
    public string WriteServiceAccountKey(string folder, string tokenPath = "/token")
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var key = Path.Combine(folder, "sa.json");
        File.WriteAllText(key, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = "depot-test",
            ["private_key_id"] = "k1",
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "depot@depot-test.iam.gserviceaccount.com",
            ["client_id"] = "1",
            ["token_uri"] = BaseUri + tokenPath,
        }));
        return key;
    }

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        BaseUri = app.Urls.First();
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        var raw = (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget
            ?? path).Split('?')[0];
        var body = await BodyAsync(request);
        if (raw == RefusedTokenPath && request.Method == "POST")
        {
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}");
            return;
        }

        if (raw is DeniedTokenPath or UnknownTokenPath && request.Method == "POST")
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($"{{\"access_token\":\"{(raw == DeniedTokenPath ? DeniedToken
                : UnknownToken)}\",\"expires_in\":3600,\"token_type\":\"Bearer\"}}");
            return;
        }

        if (raw == "/token" && request.Method == "POST")
        {
            // OAuth2 JWT-bearer grant from a service-account key whose token_uri points here.
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                $"{{\"access_token\":\"{AccessToken}\",\"expires_in\":3600,\"token_type\":\"Bearer\"}}");
            return;
        }

        if (raw.StartsWith("/computeMetadata/v1/", StringComparison.Ordinal))
        {
            // The Compute Engine metadata server: answers only requests carrying its flavour header, as Google's does.
            if (request.Headers["Metadata-Flavor"] != "Google")
            {
                context.Response.StatusCode = 403;
                return;
            }

            context.Response.Headers["Metadata-Flavor"] = "Google";
            if (raw == "/computeMetadata/v1/instance/service-accounts/default/token")
            {
                MetadataTokenRequests++;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(
                    $"{{\"access_token\":\"{AccessToken}\",\"expires_in\":3600,\"token_type\":\"Bearer\"}}");
            }

            return;
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            BearerTokens.Add(authorization["Bearer ".Length..]);
        }

        if (authorization == "Bearer " + DeniedToken)
        {
            context.Response.StatusCode = 403;
            await context.Response.WriteAsJsonAsync(new
            {
                error = new
                {
                    code = 403,
                    message = "depot@depot-test.iam.gserviceaccount.com does not have "
                    + "storage.objects.get access to the Google Cloud Storage object."
                },
            });
            return;
        }

        if (RequireToken && authorization != "Bearer " + AccessToken || authorization == "Bearer " + UnknownToken)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new
            {
                error = new { code = 401, message = "Request is missing required authentication credential" },
            });
            return;
        }
        if (raw.StartsWith("/upload/storage/v1/b/", StringComparison.Ordinal) && request.Method == "POST")
        {
            var bucket = raw.Split('/')[5];
            if (request.Query["uploadType"] == "resumable")
            {
                var name = (string)JsonNode.Parse(body)!["name"]!;
                var id = Guid.NewGuid().ToString("N");
                sessions[id] = (bucket, name, new MemoryStream(), request.Query["ifGenerationMatch"].FirstOrDefault());
                context.Response.Headers.Location = $"{BaseUri}/upload/session/{id}";
                return;
            }

            // multipart/related: metadata part then media part
            var boundary = request.ContentType!.Split("boundary=")[1].Trim('"');
            var parts = SplitMultipart(body, boundary);
            var meta = JsonNode.Parse(parts[0])!;
            await StoreAsync(context, bucket, (string)meta["name"]!, parts[1]);
            return;
        }

        if (raw.StartsWith("/upload/session/", StringComparison.Ordinal) && request.Method == "PUT")
        {
            var id = raw["/upload/session/".Length..];
            var session = sessions[id];
            session.Data.Write(body);
            var range = request.Headers.ContentRange.ToString();
            var total = range.Contains('/', StringComparison.Ordinal) ? range[(range.LastIndexOf('/') + 1)..] : "*";
            if (total == "*" && range.Length > 0)
            {
                context.Response.StatusCode = 308;
                context.Response.Headers.Range = $"bytes=0-{session.Data.Length - 1}";
                return;
            }

            sessions.TryRemove(id, out _);
            (byte[] Data, long Generation, DateTimeOffset Updated)? stored;
            lock (preconditions) // as GCS: the generation check and the write are one step
            {
                var current = objects.TryGetValue(session.Bucket + "/" + session.Name, out var o)
                    ? o.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture) : "0";
                stored = session.IfGeneration is { } wanted && current != wanted ? null
                    : Put(session.Bucket, session.Name, session.Data.ToArray());
            }

            if (stored is not { } entry)
            {
                context.Response.StatusCode = 412;
                await context.Response.WriteAsJsonAsync(new
                {
                    error = new { code = 412, message = "Precondition Failed" },
                });
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Resource(session.Bucket, session.Name, entry).ToJsonString());
            return;
        }

        if (raw.StartsWith("/storage/v1/b/", StringComparison.Ordinal))
        {
            var segments = raw.Split('/');
            var bucket = segments[4];
            if (segments.Length == 6 && segments[5] == "o" && request.Method == "GET")
            {
                await ListAsync(context, bucket);
                return;
            }

            var name = Uri.UnescapeDataString(string.Join('/', segments[6..]));
            var key = bucket + "/" + name;
            if (!objects.TryGetValue(key, out var found))
            {
                context.Response.StatusCode = 404;
                await context.Response.WriteAsJsonAsync(new
                {
                    error = new { code = 404, message = "No such object: " + key },
                });
                return;
            }

            switch (request.Method)
            {
                case "DELETE":
                    objects.TryRemove(key, out _);
                    context.Response.StatusCode = 204;
                    return;
                case "GET" when request.Query["alt"] == "media":
                    await MediaAsync(context, found.Data, name.EndsWith("/gated", StringComparison.Ordinal)
                        ? MediaGate : null);
                    return;
                case "GET":
                    await context.Response.WriteAsync(Resource(bucket, name, found).ToJsonString());
                    return;
            }
        }

        context.Response.StatusCode = 400;
        await context.Response.WriteAsJsonAsync(new
        {
            error = new { code = 400, message = $"fake GCS does not handle {request.Method} {raw}" },
        });
    }

    /// <summary>While set, media GETs of objects named <c>…/gated</c> send their first 256 KiB, then wait for it:
    /// a test sees bytes arrive before the download ends.</summary>
    public TaskCompletionSource? MediaGate { get; set; }

    // A media GET, with one byte range as GCS honours it: 206 and Content-Range, the end clamped to the size; 416
    // for a range starting at or past the end.
    private static async Task MediaAsync(HttpContext context, byte[] data, TaskCompletionSource? gate)
    {
        context.Response.ContentType = "application/octet-stream";
        var range = context.Request.GetTypedHeaders().Range;
        if (range is not { Ranges.Count: 1 } || range.Ranges.First() is not { From: { } from } one)
        {
            await context.Response.Body.WriteAsync(data);
            return;
        }

        if (from >= data.Length)
        {
            context.Response.StatusCode = 416;
            context.Response.Headers.ContentRange = $"bytes */{data.Length}";
            await context.Response.WriteAsJsonAsync(new
            {
                error = new { code = 416, message = "The requested range cannot be satisfied." },
            });
            return;
        }

        var to = Math.Min(one.To ?? long.MaxValue, data.Length - 1);
        context.Response.StatusCode = 206;
        context.Response.Headers.ContentRange = $"bytes {from}-{to}/{data.Length}";
        context.Response.ContentLength = to - from + 1;
        var body = data.AsMemory((int)from, (int)(to - from + 1));
        if (gate is not null && body.Length > 256 << 10)
        {
            await context.Response.Body.WriteAsync(body[..(256 << 10)]);
            await context.Response.Body.FlushAsync();
            await gate.Task.WaitAsync(context.RequestAborted);
            body = body[(256 << 10)..];
        }

        await context.Response.Body.WriteAsync(body);
    }

    private (byte[] Data, long Generation, DateTimeOffset Updated) Put(string bucket, string name, byte[] data)
    {
        var entry = (data, Interlocked.Increment(ref generation), DateTimeOffset.UtcNow);
        objects[bucket + "/" + name] = entry;
        return entry;
    }

    private async Task StoreAsync(HttpContext context, string bucket, string name, byte[] data)
    {
        var entry = Put(bucket, name, data);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(Resource(bucket, name, entry).ToJsonString());
    }

    private async Task ListAsync(HttpContext context, string bucket)
    {
        var prefix = bucket + "/" + (context.Request.Query["prefix"].ToString() ?? "");
        var start = int.TryParse(context.Request.Query["pageToken"], out var s) ? s : 0;
        var matching = objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(o => o.Key, StringComparer.Ordinal).ToList();
        var page = matching.Skip(start).Take(3).ToList(); // small pages, so paging is exercised
        var result = new JsonObject
        {
            ["kind"] = "storage#objects",
            ["items"] = new JsonArray(page.Select(o => (JsonNode)Resource(bucket, o.Key[(bucket.Length + 1)..],
                o.Value)).ToArray()),
        };
        if (start + page.Count < matching.Count)
        {
            result["nextPageToken"] = (start + page.Count).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(result.ToJsonString());
    }

    private static JsonObject Resource(string bucket, string name,
        (byte[] Data, long Generation, DateTimeOffset Updated) o) => new()
        {
            ["kind"] = "storage#object",
            ["bucket"] = bucket,
            ["name"] = name,
            ["size"] = o.Data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["generation"] = o.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["contentType"] = "application/octet-stream",
            ["updated"] = o.Updated.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
                System.Globalization.CultureInfo.InvariantCulture),
        };

    private static async Task<byte[]> BodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        var body = request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.Ordinal)
            ? new GZipStream(request.Body, CompressionMode.Decompress)
            : request.Body;
        await body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static List<byte[]> SplitMultipart(byte[] body, string boundary)
    {
        var parts = new List<byte[]>();
        var marker = System.Text.Encoding.ASCII.GetBytes("--" + boundary);
        var at = body.AsSpan().IndexOf(marker);
        while (at >= 0)
        {
            var next = body.AsSpan(at + marker.Length).IndexOf(marker);
            if (next < 0)
            {
                break;
            }

            var part = body.AsSpan(at + marker.Length, next).ToArray();
            var headerEnd = part.AsSpan().IndexOf("\r\n\r\n"u8);
            var content = part[(headerEnd + 4)..];
            parts.Add(content.Length >= 2 && content[^2] == '\r' && content[^1] == '\n' ? content[..^2] : content);
            at += marker.Length + next;
        }

        return parts;
    }

    internal static string Json(object value) => JsonSerializer.Serialize(value);
}
