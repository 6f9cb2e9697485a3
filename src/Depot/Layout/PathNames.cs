using System.Text;

namespace Depot.Layout;

/// <summary>File-name rules Spack applies to formatted spec strings.</summary>
public static class PathNames
{
    /// <summary>Spack's <c>polite_filename</c>: every character outside <c>[A-Za-z0-9_.-]</c> becomes
    /// <c>_</c>.</summary>
    public static string Polite(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_');
        }

        return sb.ToString();
    }

    /// <summary>The hash in an entry name <c>...-&lt;hash&gt;.suffix</c>: the last '-' field, up to the first
    /// '.'.</summary>
    public static string? HashFromEntryName(string fileName)
    {
        var dash = fileName.LastIndexOf('-');
        if (dash < 0)
        {
            return null;
        }

        var tail = fileName[(dash + 1)..];
        var dot = tail.IndexOf('.', StringComparison.Ordinal);
        var hash = dot < 0 ? tail : tail[..dot];
        return Specs.DagHash.IsValid(hash) ? hash : null;
    }
}
