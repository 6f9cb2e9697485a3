namespace Depot.Catalog;

/// <summary>
/// The text of a catalog search, parsed once: space-separated terms that must all match a spec. <c>zl</c> is a name
/// prefix, <c>zlib@1.3</c> a name and a version prefix, <c>/abc12</c> a hash prefix, <c>+mpi</c> / <c>~shared</c> /
/// <c>build_system=cmake</c> a variant (several booleans may be glued: <c>+mpi~shared</c>), <c>%gcc</c> part of the
/// compiler. Names compare without case.
/// </summary>
internal sealed class SearchTerms
{
    private readonly List<string> namePrefixes = [];
    private readonly List<(string Name, string VersionPrefix)> versions = [];
    private readonly List<string> hashPrefixes = [];
    private readonly List<string> variantWords = [];
    private readonly List<string> compilers = [];

    /// <exception cref="DepotException">A hash prefix that is not base32 (usage).</exception>
    public static SearchTerms Parse(string? text)
    {
        var terms = new SearchTerms();
        foreach (var term in (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (term[0] == '/')
            {
                var prefix = term[1..].ToLowerInvariant();
                if (!prefix.All(c => char.IsAsciiLetterLower(c) || c is >= '2' and <= '7'))
                {
                    throw new DepotException(ErrorKind.Usage,
                        $"'{term}' is not a hash prefix (a DAG hash is base32: a-z and 2-7)");
                }

                terms.hashPrefixes.Add(prefix);
            }
            else if (term[0] is '+' or '~')
            {
                var from = 0;
                for (var i = 1; i <= term.Length; i++)
                {
                    if (i == term.Length || term[i] is '+' or '~')
                    {
                        if (i - from > 1)
                        {
                            terms.variantWords.Add(term[from..i]);
                        }

                        from = i;
                    }
                }
            }
            else if (term[0] == '%')
            {
                terms.compilers.Add(term[1..]);
            }
            else if (term.Contains('=', StringComparison.Ordinal))
            {
                terms.variantWords.Add(Normalize(term));
            }
            else if (term.IndexOf('@', StringComparison.Ordinal) is var at and > 0)
            {
                terms.versions.Add((term[..at], term[(at + 1)..]));
            }
            else
            {
                terms.namePrefixes.Add(term.TrimStart('@'));
            }
        }

        return terms;
    }

    /// <summary>Variant words as searches compare them (<c>name:=a,b</c> as <c>name=a,b</c>).</summary>
    public static string[] NormalizeWords(IReadOnlyList<string> words) => words.Select(Normalize).ToArray();

    private static string Normalize(string word) =>
        word.Replace(":=", "=", StringComparison.Ordinal).Replace("'", "", StringComparison.Ordinal);

    /// <summary>No terms: every spec matches.</summary>
    public bool IsEmpty => namePrefixes.Count + versions.Count + hashPrefixes.Count + variantWords.Count
        + compilers.Count == 0;

    public bool Matches(SpecRow row, string[] rowVariantWords)
    {
        foreach (var prefix in namePrefixes)
        {
            if (!row.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        foreach (var (name, version) in versions)
        {
            if (!row.Name.Equals(name, StringComparison.OrdinalIgnoreCase)
                || !row.Version.StartsWith(version, StringComparison.Ordinal))
            {
                return false;
            }
        }

        foreach (var prefix in hashPrefixes)
        {
            if (!row.Hash.StartsWith(prefix, StringComparison.Ordinal))
            {
                return false;
            }
        }

        foreach (var word in variantWords)
        {
            if (Array.IndexOf(rowVariantWords, word) < 0)
            {
                return false;
            }
        }

        foreach (var compiler in compilers)
        {
            if (!row.Compiler.Contains(compiler, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }
}
