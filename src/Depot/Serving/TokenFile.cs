using System.Globalization;
using System.Text.Json;

namespace Depot.Serving;

/// <summary>
/// The tokens file's bytes: <c>{"version": 1, "tokens": [{id, sha256, name, cache, scope, created, expires}]}</c>.
/// Written whole to a temporary file (0600: hashes are no secrets, but nobody else needs to see which tokens exist)
/// and renamed over the old one, so a reader (another replica) sees the old set or the new, never half.
/// </summary>
internal static class TokenFile
{
    private const int Version = 1;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The tokens in <paramref name="bytes"/>, read from <paramref name="path"/>.</summary>
    /// <exception cref="DepotException">Not a tokens file (invalid content, naming the file and the entry).</exception>
    public static List<TokenRecord> Parse(string path, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return [];
        }

        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 8 });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("version", out var version)
                || version.ValueKind != JsonValueKind.Number || version.GetInt32() != Version
                || !root.TryGetProperty("tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Array)
            {
                throw Invalid(path, $"expected {{\"version\": {Version}, \"tokens\": [...]}}");
            }

            var records = new List<TokenRecord>();
            var index = 0;
            foreach (var token in tokens.EnumerateArray())
            {
                records.Add(Record(path, index++, token));
            }

            return records;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw Invalid(path, e.Message.Split('\n')[0]);
        }
    }

    /// <summary>Replaces the file at <paramref name="path"/> with <paramref name="records"/>, atomically.</summary>
    public static async Task WriteAsync(string path, IEnumerable<TokenRecord> records,
        CancellationToken cancellationToken)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = OwnerOnly,
            });
            await using (stream.ConfigureAwait(false))
            {
                await using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                {
                    Write(json, records);
                }

                stream.WriteByte((byte)'\n');
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static void Write(Utf8JsonWriter json, IEnumerable<TokenRecord> records)
    {
        json.WriteStartObject();
        json.WriteNumber("version", Version);
        json.WriteStartArray("tokens");
        foreach (var r in records)
        {
            json.WriteStartObject();
            json.WriteString("id", r.Id);
            json.WriteString("sha256", r.Sha256);
            if (r.Name is not null)
            {
                json.WriteString("name", r.Name);
            }

            json.WriteString("cache", r.Cache);
            json.WriteString("scope", r.Scope.Name());
            json.WriteString("created", Time(r.Created));
            if (r.Expires is { } expires)
            {
                json.WriteString("expires", Time(expires));
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Time(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static TokenRecord Record(string path, int index, JsonElement token)
    {
        string? Text(string field, bool required)
        {
            if (token.ValueKind == JsonValueKind.Object && token.TryGetProperty(field, out var value)
                && value.ValueKind == JsonValueKind.String)
            {
                return value.GetString();
            }

            return required ? throw Invalid(path, $"token {index}: no \"{field}\" string") : null;
        }

        var scope = TokenScopes.Parse(Text("scope", true)!)
            ?? throw Invalid(path, $"token {index}: \"scope\" is read, push or admin");
        return new TokenRecord(Text("id", true)!, Text("sha256", true)!, Text("name", false), Text("cache", true)!,
            scope, ParseTime(Text("created", true)!),
            Text("expires", false) is { } expires ? ParseTime(expires) : null);
    }

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static DepotException Invalid(string path, string problem) =>
        new(ErrorKind.InvalidContent, $"{path}: not a tokens file: {problem}");
}
