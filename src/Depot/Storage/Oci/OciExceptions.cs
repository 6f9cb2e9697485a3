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

    /// <summary>"CODE: message; …" from a registry error body, else the body's start: one line of at most
    /// <see cref="SummaryLength"/> characters, whatever the registry sent.</summary>
    internal static string Summarize(string body)
    {
        if (Errors(body) is { } errors)
        {
            return OneLine(string.Join("; ", errors.Select(e => $"{e.Code ?? "ERROR"}: {e.Message}")));
        }

        return OneLine(body);
    }

    /// <summary>The longest summary of an error body in a message.</summary>
    internal const int SummaryLength = 300;

    private static string OneLine(string text)
    {
        text = string.Concat(text.ReplaceLineEndings(" ").Select(c => char.IsControl(c) ? ' ' : c)).Trim();
        return text.Length == 0 ? "(no body)" : text.Length > SummaryLength ? text[..SummaryLength] + "…" : text;
    }

    private static List<string> ErrorCodes(string body) => Errors(body)?.Select(e => e.Code ?? "").ToList() ?? [];

    // The distribution spec's {"errors": [{"code", "message"}, …]}; null when the body is not that (HTML from a proxy,
    // plain text, JSON of another shape). Fields of the wrong type count as absent.
    private static List<(string? Code, string Message)>? Errors(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            return errors.EnumerateArray().Select(e => (Text(e, "code"), Text(e, "message") ?? "")).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null; // not JSON, or a string that is not valid UTF-8: summarised as text
        }
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
