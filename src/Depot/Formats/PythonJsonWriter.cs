using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Depot.Formats;

/// <summary>How <see cref="PythonJsonWriter"/> lays out containers.</summary>
public enum PythonJsonStyle
{
    /// <summary><c>json.dumps(separators=(",", ":"))</c>: one line, no whitespace. Used for hashing and
    /// indexes.</summary>
    Compact,

    /// <summary><c>json.dump(indent=0, separators=(",", ":"))</c>: one token per line, no indentation.
    /// Spack writes spec files and manifests this way to keep clearsigned lines short.</summary>
    IndentZero,
}

/// <summary>
/// Writes JSON byte-for-byte as Python's <c>json</c> module does with <c>ensure_ascii=True</c>: Spack hashes and
/// signs that exact text, so System.Text.Json's own escaping (which escapes <c>+ &lt; &gt; &amp; '</c>) cannot be used.
/// Keys are written in the order given. Numbers taken from parsed documents come out as Python prints them after
/// <c>json.loads</c>: integers keep their digits, other numbers become the shortest text that reads back as the same
/// double (Python's float <c>repr</c>: <c>1.50</c> is written <c>1.5</c>, <c>1e16</c> is written <c>1e+16</c>).
/// </summary>
public sealed class PythonJsonWriter
{
    private readonly IBufferWriter<byte> output;
    private readonly PythonJsonStyle style;
    private readonly Stack<bool> hasItems = new();
    private bool afterKey;

    public PythonJsonWriter(IBufferWriter<byte> output, PythonJsonStyle style = PythonJsonStyle.Compact)
    {
        this.output = output;
        this.style = style;
    }

    /// <summary>Serialises one element (and everything below it) to a byte array.</summary>
    public static byte[] ToBytes(JsonElement element, PythonJsonStyle style = PythonJsonStyle.Compact)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new PythonJsonWriter(buffer, style).WriteElement(element);
        return buffer.WrittenSpan.ToArray();
    }

    public void StartObject() => Open((byte)'{');

    public void EndObject() => Close((byte)'}');

    public void StartArray() => Open((byte)'[');

    public void EndArray() => Close((byte)']');

    public void WritePropertyName(string name)
    {
        BeforeValue();
        WriteQuoted(name);
        Raw((byte)':');
        afterKey = true;
    }

    public void WriteString(string value)
    {
        BeforeValue();
        WriteQuoted(value);
    }

    public void WriteNumber(long value)
    {
        BeforeValue();
        Ascii(value.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Writes a float as Python's <c>json.dumps</c> does (its <c>repr</c>).</summary>
    public void WriteNumber(double value)
    {
        BeforeValue();
        Ascii(PythonFloat.Repr(value));
    }

    public void WriteBoolean(bool value)
    {
        BeforeValue();
        Ascii(value ? "true" : "false");
    }

    public void WriteNull()
    {
        BeforeValue();
        Ascii("null");
    }

    public void WriteString(string name, string value)
    {
        WritePropertyName(name);
        WriteString(value);
    }

    public void WriteNumber(string name, long value)
    {
        WritePropertyName(name);
        WriteNumber(value);
    }

    /// <summary>Writes a value that is already JSON in this writer's style (bytes copied verbatim).</summary>
    public void WriteRaw(ReadOnlySpan<byte> json)
    {
        BeforeValue();
        output.Write(json);
    }

    /// <summary>Writes a parsed element, preserving key order and the original text of numbers.</summary>
    public void WriteElement(JsonElement element, Func<string, bool>? skipProperty = null)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                StartObject();
                foreach (var property in element.EnumerateObject())
                {
                    if (skipProperty is not null && skipProperty(property.Name))
                    {
                        continue;
                    }

                    WritePropertyName(property.Name);
                    WriteElement(property.Value);
                }

                EndObject();
                break;
            case JsonValueKind.Array:
                StartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteElement(item);
                }

                EndArray();
                break;
            case JsonValueKind.String:
                WriteString(element.GetString()!);
                break;
            case JsonValueKind.Number:
                BeforeValue();
                Ascii(PythonFloat.FromJson(element.GetRawText()));
                break;
            case JsonValueKind.True:
                WriteBoolean(true);
                break;
            case JsonValueKind.False:
                WriteBoolean(false);
                break;
            default:
                WriteNull();
                break;
        }
    }

    private void Open(byte bracket)
    {
        BeforeValue();
        Raw(bracket);
        hasItems.Push(false);
    }

    private void Close(byte bracket)
    {
        var any = hasItems.Pop();
        if (any && style == PythonJsonStyle.IndentZero)
        {
            Raw((byte)'\n');
        }

        Raw(bracket);
    }

    private void BeforeValue()
    {
        if (afterKey)
        {
            afterKey = false;
            return;
        }

        if (hasItems.Count == 0)
        {
            return;
        }

        if (hasItems.Peek())
        {
            Raw((byte)',');
        }
        else
        {
            hasItems.Pop();
            hasItems.Push(true);
        }

        if (style == PythonJsonStyle.IndentZero)
        {
            Raw((byte)'\n');
        }
    }

    private static readonly System.Buffers.SearchValues<char> NeedsEscape =
        System.Buffers.SearchValues.Create(Enumerable.Range(0, 0x20).Select(i => (char)i).Concat(['"', '\\'])
            .ToArray());

    private void WriteQuoted(string value)
    {
        // Most strings (hashes, names, versions) are plain printable ASCII: copy them in one go.
        if (value.AsSpan().IndexOfAny(NeedsEscape) < 0
            && value.AsSpan().IndexOfAnyExceptInRange((char)0x20, (char)0x7e) < 0)
        {
            var plain = output.GetSpan(value.Length + 2);
            plain[0] = (byte)'"';
            Encoding.ASCII.GetBytes(value, plain[1..]);
            plain[value.Length + 1] = (byte)'"';
            output.Advance(value.Length + 2);
            return;
        }

        var span = output.GetSpan(value.Length + 2);
        var n = 0;
        span[n++] = (byte)'"';
        foreach (var c in value)
        {
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            {
                if (n + 2 > span.Length)
                {
                    output.Advance(n);
                    span = output.GetSpan(64);
                    n = 0;
                }

                span[n++] = (byte)c;
                continue;
            }

            output.Advance(n);
            Ascii(Escape(c));
            span = output.GetSpan(64);
            n = 0;
        }

        if (n + 1 > span.Length)
        {
            output.Advance(n);
            span = output.GetSpan(1);
            n = 0;
        }

        span[n++] = (byte)'"';
        output.Advance(n);
    }

    private static string Escape(char c) => c switch
    {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        '\b' => "\\b",
        '\f' => "\\f",
        _ => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
    };

    private void Ascii(string text)
    {
        var span = output.GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, span);
        output.Advance(written);
    }

    private void Raw(byte b)
    {
        output.GetSpan(1)[0] = b;
        output.Advance(1);
    }
}
