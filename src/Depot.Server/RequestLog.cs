using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Depot.Server;

/// <summary>
/// The structured request log: one JSON object per line per answered request, for a log shipper to parse. It says who
/// asked what and how it went; it never carries a secret: no Authorization header, no query string (a signed URL's
/// signature, a token in a query), only the token's id when a token was accepted.
/// </summary>
public sealed class RequestLog(TextWriter writer)
{
    private readonly Lock gate = new();

    /// <summary>One answered request.</summary>
    /// <param name="Time">When it arrived (UTC).</param>
    /// <param name="Method">The request method.</param>
    /// <param name="Path">The path, without the query string.</param>
    /// <param name="Status">The response status (499 when the client went away first).</param>
    /// <param name="Sent">Response body bytes sent.</param>
    /// <param name="Read">Request body bytes declared (Content-Length).</param>
    /// <param name="Elapsed">Time to the last byte.</param>
    /// <param name="Cache">The served cache the path names, or null.</param>
    /// <param name="Client">The client's address (the forwarded one behind a trusted proxy).</param>
    /// <param name="Token">The id of the token the request was accepted with, or null.</param>
    /// <param name="Error">For a request that failed inside the server (500): the exception's type and message.</param>
    public sealed record Entry(DateTimeOffset Time, string Method, string Path, int Status, long Sent, long Read,
        TimeSpan Elapsed, string? Cache, string? Client, string? Token, string? Error = null);

    /// <summary>Writes <paramref name="entry"/> as one line (lines of concurrent requests never interleave).</summary>
    public void Write(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var line = Format(entry);
        lock (gate)
        {
            writer.Write(line);
            writer.Flush();
        }
    }

    /// <summary>The JSON line of <paramref name="entry"/>, newline included.</summary>
    public static string Format(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", entry.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ",
                CultureInfo.InvariantCulture));
            json.WriteString("method", entry.Method);
            json.WriteString("path", entry.Path);
            json.WriteNumber("status", entry.Status);
            json.WriteNumber("bytes", entry.Sent);
            if (entry.Read > 0)
            {
                json.WriteNumber("bytes_in", entry.Read);
            }

            json.WriteNumber("ms", Math.Round(entry.Elapsed.TotalMilliseconds, 1));
            if (entry.Cache is not null)
            {
                json.WriteString("cache", entry.Cache);
            }

            if (entry.Client is not null)
            {
                json.WriteString("client", entry.Client);
            }

            if (entry.Token is not null)
            {
                json.WriteString("token", entry.Token);
            }

            if (entry.Error is not null)
            {
                json.WriteString("error", entry.Error);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
