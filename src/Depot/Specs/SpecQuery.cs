namespace Depot.Specs;

/// <summary>
/// A query as users type it on the command line: <c>name</c>, <c>name@version</c>, <c>/hashprefix</c>,
/// <c>name/hashprefix</c>, optionally with variants (<c>+shared</c>, <c>~mpi</c>, <c>build_type=Release</c>).
/// <c>@1.2</c> matches 1.2 and 1.2.x; <c>@=1.2</c> matches exactly 1.2.
/// </summary>
public sealed class SpecQuery
{
    private readonly List<(string Name, string? Value)> variants = [];

    private SpecQuery(string text) => Text = text;

    public string Text { get; }

    public string? Name { get; private set; }

    public string? Version { get; private set; }

    public bool ExactVersion { get; private set; }

    public string? HashPrefix { get; private set; }

    /// <exception cref="DepotException">The query cannot be parsed.</exception>
    public static SpecQuery Parse(string text)
    {
        var query = new SpecQuery(text);
        var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0)
        {
            throw new DepotException(ErrorKind.Usage, "empty spec query");
        }

        foreach (var token in tokens)
        {
            query.ParseToken(token);
        }

        return query;
    }

    private void ParseToken(string token)
    {
        var rest = token;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            HashPrefix = rest[(slash + 1)..].ToLowerInvariant();
            if (HashPrefix.Length == 0 || !Base32.IsLowerBase32(HashPrefix))
            {
                throw new DepotException(ErrorKind.Usage, $"'{Text}': '/{HashPrefix}' is not a DAG hash prefix");
            }

            rest = rest[..slash];
        }

        while (rest.Length > 0)
        {
            var next = rest.IndexOfAny(['@', '+', '~'], 1);
            var part = next < 0 ? rest : rest[..next];
            rest = next < 0 ? "" : rest[next..];
            if (part[0] == '@')
            {
                ExactVersion = part.StartsWith("@=", StringComparison.Ordinal);
                Version = part[(ExactVersion ? 2 : 1)..];
            }
            else if (part[0] is '+' or '~')
            {
                variants.Add((part[1..], part[0] == '+' ? "True" : "False"));
            }
            else if (part.Contains('=', StringComparison.Ordinal))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                variants.Add((part[..eq].TrimEnd(':'), part[(eq + 1)..]));
                rest = "";
            }
            else if (Name is null)
            {
                Name = part;
            }
            else
            {
                throw new DepotException(ErrorKind.Usage, $"'{Text}': unexpected '{part}'");
            }
        }
    }

    /// <summary>True when the query names variants, which only a full node can answer.</summary>
    public bool HasVariants => variants.Count > 0;

    /// <summary>Matches on name, version and hash only (see <see cref="HasVariants"/>).</summary>
    public bool Matches(string name, string version, string hash) =>
        (Name is null || string.Equals(Name, name, StringComparison.Ordinal))
        && (HashPrefix is null || hash.StartsWith(HashPrefix, StringComparison.Ordinal))
        && (Version is null || VersionMatches(version));

    public bool Matches(SpecNode node)
    {
        if (!Matches(node.Name, node.Version, node.Hash))
        {
            return false;
        }

        foreach (var (name, value) in variants)
        {
            var variant = node.Variants.FirstOrDefault(v => v.Name == name);
            if (variant is null || (value is not null && !variant.Values.SequenceEqual(value.Split(','))))
            {
                return false;
            }
        }

        return true;
    }

    private bool VersionMatches(string version)
    {
        if (version == Version)
        {
            return true;
        }

        return !ExactVersion && version.Length > Version!.Length
            && version.StartsWith(Version, StringComparison.Ordinal)
            && version[Version.Length] is '.' or '-' or '_';
    }
}
