using System.Text.Encodings.Web;
using System.Text.Json;

namespace Depot.Cli;

/// <summary>What <c>--json</c> prints: one indented JSON document, and the fields every per-spec record starts
/// with.</summary>
internal static class JsonOutput
{
    /// <summary>
    /// How every document is written: indented, and with text as it is (<c>"Depot &lt;depot@example.org&gt;"</c>, not
    /// <c>\u003C</c>): the output is read by programs and people, never embedded in HTML. Quotes, backslashes and
    /// control characters are still escaped, as JSON requires.
    /// </summary>
    public static JsonWriterOptions Options { get; } = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options))
        {
            write(writer);
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>An error as the one object on stdout: kind, exit code, message, and the hint if any.</summary>
    public static void WriteError(TextWriter output, ErrorKind kind, string message, ErrorHint? hint) =>
        WriteError(output, kind.Name(), ExitCodes.For(kind), message, hint);

    /// <summary>An error that is no <see cref="ErrorKind"/> (<c>cancelled</c>): its kind name and exit code.</summary>
    public static void WriteError(TextWriter output, string kind, int exitCode, string message, ErrorHint? hint)
    {
        Write(output, w =>
        {
            w.WriteStartObject();
            WriteErrorField(w, kind, exitCode, message, hint);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// <c>"error": {"kind", "exit_code", "message", "hint"}</c> inside a result document (a run whose last step failed
    /// after its main work); returns the exit code.
    /// </summary>
    public static int WriteErrorField(Utf8JsonWriter w, DepotException error)
    {
        WriteErrorField(w, error.Kind.Name(), ExitCodes.For(error.Kind), error.Message, error.Hint);
        return ExitCodes.For(error.Kind);
    }

    /// <summary>The same for an error that is no <see cref="ErrorKind"/> (<c>cancelled</c>).</summary>
    public static void WriteErrorField(Utf8JsonWriter w, string kind, int exitCode, string message, ErrorHint? hint)
    {
        w.WriteStartObject("error");
        w.WriteString("kind", kind);
        w.WriteNumber("exit_code", exitCode);
        w.WriteString("message", message);
        WriteHint(w, hint);
        w.WriteEndObject();
    }

    /// <summary>
    /// <c>"hint": {"action", "arguments", "text", "command"}</c> when <paramref name="hint"/> is set: the structured
    /// action, the CLI's advice, and the command to run when it is one.
    /// </summary>
    public static void WriteHint(Utf8JsonWriter w, ErrorHint? hint)
    {
        if (hint is null)
        {
            return;
        }

        w.WriteStartObject("hint");
        w.WriteString("action", hint.ActionName);
        w.WriteStartObject("arguments");
        foreach (var (name, value) in hint.Arguments.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            w.WriteString(name, value);
        }

        w.WriteEndObject();
        w.WriteString("text", HintText.Render(hint));
        if (HintText.Command(hint) is { } command)
        {
            w.WriteString("command", command);
        }

        w.WriteEndObject();
    }

    /// <summary>A problem or failure of one entry: location, kind, message and hint.</summary>
    public static void WriteProblem(Utf8JsonWriter w, Depot.Operations.EntryProblem problem)
    {
        w.WriteStartObject();
        w.WriteString("location", problem.Location);
        w.WriteString("kind", problem.Kind.Name());
        w.WriteString("message", problem.Message);
        WriteHint(w, problem.Hint);
        w.WriteEndObject();
    }

    /// <summary><c>"name": [problems]</c>.</summary>
    public static void WriteProblems(Utf8JsonWriter w, string name, IEnumerable<Depot.Operations.EntryProblem> problems)
    {
        w.WriteStartArray(name);
        foreach (var problem in problems)
        {
            WriteProblem(w, problem);
        }

        w.WriteEndArray();
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
