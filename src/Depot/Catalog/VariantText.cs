using System.Text;

namespace Depot.Catalog;

/// <summary>
/// Splits what <c>depot list -v</c> prints after a spec's <c>name@version</c> (<c>cflags='-O2 -g'+mpi~shared
/// build_system=cmake</c>, from <see cref="Specs.SpecFormatter.WithVariants"/>) into words: one per flag, one per
/// boolean variant (<c>+mpi</c>, <c>~shared</c>), one per valued variant. Quoted values stay whole. The summary keeps
/// only that text, so the catalog's rows take their variants from it.
/// </summary>
public static class VariantText
{
    /// <summary>The words of <paramref name="text"/>, without its leading <paramref name="prefix"/>
    /// (<c>name@version</c>).</summary>
    public static IReadOnlyList<string> Words(string text, string prefix)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(prefix);
        var rest = text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..] : text;
        var words = new List<string>();
        foreach (var token in Tokens(rest))
        {
            SplitBooleans(token, words);
        }

        return words;
    }

    // Top-level words: separated by spaces outside quotes.
    private static IEnumerable<string> Tokens(string text)
    {
        var current = new StringBuilder();
        char quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                current.Append(c);
                if (c == '\\' && quote == '"' && i + 1 < text.Length)
                {
                    current.Append(text[++i]);
                }
                else if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c == ' ')
            {
                if (current.Length > 0)
                {
                    yield return current.ToString();
                    current.Clear();
                }
            }
            else
            {
                if (c is '\'' or '"')
                {
                    quote = c;
                }

                current.Append(c);
            }
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    // "+mpi~shared" is two words; so is the run of booleans glued after an unquoted flag value ("cflags=-O2+mpi").
    private static void SplitBooleans(string token, List<string> words)
    {
        var start = BooleanRunStart(token);
        if (start > 0)
        {
            words.Add(token[..start]);
        }

        if (start < 0)
        {
            words.Add(token);
            return;
        }

        var from = start;
        for (var i = start + 1; i <= token.Length; i++)
        {
            if (i == token.Length || token[i] is '+' or '~')
            {
                words.Add(token[from..i]);
                from = i;
            }
        }
    }

    // The index where a trailing run of [+~]name words starts (names start with a letter), or -1.
    private static int BooleanRunStart(string token)
    {
        if (token.EndsWith('\'') || token.EndsWith('"'))
        {
            return -1;
        }

        var start = -1;
        var i = token.Length;
        while (i > 0)
        {
            var j = i - 1;
            while (j >= 0 && (char.IsAsciiLetterOrDigit(token[j]) || token[j] is '_' or '-' or '.'))
            {
                j--;
            }

            if (j < 0 || token[j] is not ('+' or '~') || j + 1 >= i || !char.IsAsciiLetter(token[j + 1]))
            {
                break;
            }

            start = j;
            i = j;
        }

        return start;
    }
}
