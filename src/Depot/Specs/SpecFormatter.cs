using System.Text;
using Depot.Formats;

namespace Depot.Specs;

/// <summary>Renders specs the way Spack's <c>buildcache list</c> and <c>find</c> print them.</summary>
public static class SpecFormatter
{
    /// <summary>The language virtuals whose providers Spack 1.x shows as the spec's compilers.</summary>
    private static readonly string[] LanguageVirtuals = ["c", "cxx", "fortran"];

    /// <summary><c>name@version</c>.</summary>
    public static string Short(SpecNode node) => node.Version.Length > 0 ? $"{node.Name}@{node.Version}" : node.Name;

    /// <summary><c>name@version</c> followed by compiler flags and variants, as <c>spack buildcache list
    /// -v</c>.</summary>
    /// <param name="node">The node.</param>
    /// <param name="newStyle">True for Spack 1.x notation (<c>name:=a,b</c> for multi-valued variants).</param>
    public static string WithVariants(SpecNode node, bool newStyle)
    {
        var sb = new StringBuilder(Short(node));
        foreach (var (flag, values) in node.Flags.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            sb.Append(' ').Append(flag).Append('=').Append(Quote(string.Join(' ', values)));
        }

        var ordered = node.Variants.OrderBy(v => v.Name, StringComparer.Ordinal).ToList();
        foreach (var v in ordered.Where(v => v.IsBoolean))
        {
            sb.Append(v.BooleanValue ? '+' : '~').Append(v.Name);
        }

        foreach (var v in ordered.Where(v => !v.IsBoolean))
        {
            var values = v.Name == "patches" ? v.Values.Select(p => p.Length > 7 ? p[..7] : p) : v.Values;
            var text = string.Join(',', values);
            sb.Append(' ').Append(v.Name);
            sb.Append(v.IsMultiValued && newStyle ? ":=" : "=");
            sb.Append(newStyle ? Quote(text) : text);
        }

        return sb.ToString();
    }

    /// <summary>
    /// The compiler part of Spack's list headers: <c>gcc@12.2.0</c> for a node that records its compiler (format 4),
    /// <c>%c=gcc@12.2.0</c> from language-virtual edges (format 5), or <c>no compilers</c>.
    /// </summary>
    public static string CompilerLabel(SpecNode node, Func<string, SpecNode?> resolve)
    {
        if (node.Compiler is { } c)
        {
            return $"{c.Name}@{c.Version}";
        }

        var parts = new List<string>();
        foreach (var group in node.Dependencies
                     .Where(e => e.Virtuals.Any(v => LanguageVirtuals.Contains(v)))
                     .GroupBy(e => e.Hash))
        {
            var provider = resolve(group.Key);
            var virtuals = group.SelectMany(e => e.Virtuals).Where(v => LanguageVirtuals.Contains(v)).Distinct()
                .OrderBy(v => Array.IndexOf(LanguageVirtuals, v));
            var name = provider is null ? group.First().Name : Short(provider);
            parts.Add($"%{string.Join(',', virtuals)}={name}");
        }

        return parts.Count == 0 ? "no compilers" : string.Join(' ', parts.Order(StringComparer.Ordinal));
    }

    /// <summary>A Spack section header line: <c>-- label ----</c>, 65 characters wide.</summary>
    public static string Header(string label)
    {
        var text = $"-- {label} ";
        return text.Length >= 65 ? text + "--" : text + new string('-', 65 - text.Length);
    }

    /// <summary>
    /// Spack 1.x's quoting of variant and flag values: bare when made only of letters, digits and
    /// <c>, / _ . - [ ]</c>; else single-quoted, or JSON-escaped in double quotes when it contains a single quote.
    /// </summary>
    internal static string Quote(string value)
    {
        if (value.Length > 0
            && value.All(c => char.IsAsciiLetterOrDigit(c) || c is ',' or '/' or '_' or '.' or '-' or '[' or ']'))
        {
            return value;
        }

        if (!value.Contains('\'', StringComparison.Ordinal))
        {
            return $"'{value}'";
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        new PythonJsonWriter(buffer).WriteString(value);
        return System.Text.Encoding.ASCII.GetString(buffer.WrittenSpan);
    }
}
