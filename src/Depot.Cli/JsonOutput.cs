using System.Text.Json;

namespace Depot.Cli;

/// <summary>What <c>--json</c> prints: one indented JSON document, and the fields every per-spec record starts with.</summary>
internal static class JsonOutput
{
    public static void Write(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            write(writer);
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>Opens a spec's record: name, hash, spec, status (the caller adds the rest and closes it).</summary>
    public static void StartSpec(Utf8JsonWriter w, string name, string hash, string display, string status)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("hash", hash);
        w.WriteString("spec", display);
        w.WriteString("status", status);
    }
}
