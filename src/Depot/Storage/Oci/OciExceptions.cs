using System.Net;
using System.Text.Json;

namespace Depot.Storage.Oci;

/// <summary>A registry refused a login, or one could not be attempted; the message names registry, scope and
/// source.</summary>
public sealed class OciAuthException(string message, ErrorHint? hint = null)
    : DepotException(ErrorKind.Authentication, message, hint);

/// <summary>A registry answered an error: method, URL, status and the registry's own error codes in one line.</summary>
public sealed class OciRegistryException : DepotException
{
    /// <summary>The message says method, URL, status, the body's summary and <paramref name="note"/> (a too-long
    /// <c>Retry-After</c>).</summary>
    public OciRegistryException(HttpMethod method, Uri uri, HttpStatusCode status, string body, string note = "")
        : base(ErrorKinds.OfHttpStatus(status),
            $"{method} {uri.GetLeftPart(UriPartial.Path)}: {(int)status} {status}: {Summarize(body)}{note}")
    {
        Status = status;
        Codes = ErrorCodes(body);
    }

    public HttpStatusCode Status { get; }

    /// <summary>The distribution spec's error codes in the body (MANIFEST_UNKNOWN, DIGEST_INVALID, …).</summary>
    public IReadOnlyList<string> Codes { get; }

    /// <summary>"CODE: message; …" from a registry error body, else the body's start.</summary>
    internal static string Summarize(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                return string.Join("; ", errors.EnumerateArray().Select(e =>
                    $"{(e.TryGetProperty("code", out var c) ? c.GetString() : "ERROR")}: "
                    + $"{(e.TryGetProperty("message", out var m) ? m.GetString() : "")}"));
            }
        }
        catch (JsonException)
        {
        }

        body = body.ReplaceLineEndings(" ").Trim();
        return body.Length == 0 ? "(no body)" : body.Length > 200 ? body[..200] + "…" : body;
    }

    private static List<string> ErrorCodes(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array
                ? errors.EnumerateArray().Select(e => e.TryGetProperty("code", out var c) ? c.GetString() ?? "" : "")
                    .ToList()
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
