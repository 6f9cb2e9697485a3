using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Depot.Catalog.Pages;

/// <summary>
/// HTML onto a <see cref="TextWriter"/>: every text and attribute value goes through <see cref="HtmlEncoder"/> (names,
/// versions and variants come from build caches anyone may push to), markup only from the renderer's own literals.
/// </summary>
internal sealed class HtmlOutput
{
    // Every script passes (a Japanese package description stays readable); the characters that matter to HTML (<, >,
    // &, quotes) and a few more the encoder always escapes are still escaped.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    public HtmlOutput(TextWriter writer) => Writer = writer;

    /// <summary>Where the page goes.</summary>
    public TextWriter Writer { get; }

    /// <summary>Markup written by the renderer itself (never data).</summary>
    public HtmlOutput Raw(string markup)
    {
        Writer.Write(markup);
        return this;
    }

    /// <summary>Text, escaped.</summary>
    public HtmlOutput Text(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            Encoder.Encode(Writer, text);
        }

        return this;
    }

    /// <summary>A whole number as text.</summary>
    public HtmlOutput Number(long value) => Raw(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary><c>&lt;tag a="v"…&gt;</c>; attributes with a null value are left out (a boolean
    /// attribute is given as "").</summary>
    public HtmlOutput Open(string tag, params ReadOnlySpan<(string Name, string? Value)> attributes)
    {
        Writer.Write('<');
        Writer.Write(tag);
        Attributes(attributes);
        Writer.Write('>');
        return this;
    }

    /// <summary><c>&lt;/tag&gt;</c>.</summary>
    public HtmlOutput Close(string tag)
    {
        Writer.Write("</");
        Writer.Write(tag);
        Writer.Write('>');
        return this;
    }

    /// <summary>An element holding escaped text.</summary>
    public HtmlOutput Element(string tag, string? text, params ReadOnlySpan<(string Name, string? Value)> attributes)
    {
        Open(tag, attributes);
        Text(text);
        return Close(tag);
    }

    /// <summary>An element with no content and no end tag (<c>input</c>, <c>meta</c>, <c>link</c>).</summary>
    public HtmlOutput Void(string tag, params ReadOnlySpan<(string Name, string? Value)> attributes) =>
        Open(tag, attributes);

    /// <summary>An SVG element with no content, closed in place (<c>&lt;rect …/&gt;</c>).</summary>
    public HtmlOutput SelfClosing(string tag, params ReadOnlySpan<(string Name, string? Value)> attributes)
    {
        Writer.Write('<');
        Writer.Write(tag);
        Attributes(attributes);
        Writer.Write("/>");
        return this;
    }

    /// <summary>Escapes <paramref name="text"/> into a string (for tests and small attribute values).</summary>
    public static string Escape(string text) => Encoder.Encode(text);

    private void Attributes(ReadOnlySpan<(string Name, string? Value)> attributes)
    {
        foreach (var (name, value) in attributes)
        {
            if (value is null)
            {
                continue;
            }

            Writer.Write(' ');
            Writer.Write(name);
            Writer.Write("=\"");
            Encoder.Encode(Writer, value);
            Writer.Write('"');
        }
    }
}
