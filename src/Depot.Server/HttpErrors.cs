using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Depot.Server;

/// <summary>
/// Errors as the server answers them: an engine error kind becomes a status, the message one line in a small JSON
/// body (<c>{"error": …, "kind": …}</c>) that a client shows as is; a hint travels as its action name and arguments.
/// </summary>
public static class HttpErrors
{
    /// <summary>The status an engine error kind is answered with.</summary>
    /// <remarks>
    /// Authentication and I/O failures here are the server's own, against its store: the client can do nothing about
    /// them, so they are a bad gateway, not a 401 the client would answer with credentials.
    /// </remarks>
    public static int StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.Usage => StatusCodes.Status400BadRequest,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.Trust => StatusCodes.Status403Forbidden,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        ErrorKind.InvalidContent => StatusCodes.Status422UnprocessableEntity,
        ErrorKind.Unsupported => StatusCodes.Status501NotImplemented,
        ErrorKind.Authentication or ErrorKind.IO => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>Answers with <paramref name="status"/> and a one-line reason (nothing else is written).</summary>
    public static async Task WriteAsync(HttpContext http, int status, string reason, ErrorKind? kind = null,
        ErrorHint? hint = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.Response.HasStarted)
        {
            // Headers are gone: the client sees the body cut short, which is all that can be said now.
            http.Abort();
            return;
        }

        // Headers set for this answer (Allow, WWW-Authenticate, Content-Range of a 416) stay; a length set for the
        // object's body does not apply to this one.
        http.Response.ContentLength = null;
        http.Response.Headers.ETag = default;
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(http.Request.Method))
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("error", OneLine(reason));
            if (kind is { } k)
            {
                json.WriteString("kind", k.Name());
            }

            if (hint is not null)
            {
                json.WriteStartObject("hint");
                json.WriteString("action", hint.ActionName);
                foreach (var (name, value) in hint.Arguments)
                {
                    json.WriteString(name, value);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        await http.Response.Body.WriteAsync(buffer.ToArray(), http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Answers with an engine error: its kind's status and its message.</summary>
    public static Task WriteAsync(HttpContext http, DepotException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return WriteAsync(http, StatusOf(error.Kind), error.Message, error.Kind, error.Hint);
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
