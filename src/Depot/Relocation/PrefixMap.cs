using System.Text;

namespace Depot.Relocation;

/// <summary>
/// Old → new prefixes in Spack's order (<c>relocation.md</c> §4.1): the sbang script, then the package and the specs
/// it links or runs, then the old install root as the fallback for anything else under it. Where two old prefixes
/// match at one place, the earlier one wins. Identity pairs are dropped.
/// </summary>
public sealed class PrefixMap
{
    private readonly List<(byte[] Old, byte[] New)> pairs = [];
    private readonly List<bool> aliases = [];

    public IReadOnlyList<(byte[] Old, byte[] New)> Pairs => pairs;

    public bool IsEmpty => pairs.Count == 0;

    /// <summary>True when pair <paramref name="index"/> maps to a short alias of a longer new prefix.</summary>
    public bool IsAlias(int index) => aliases[index];

    public void Add(string oldPrefix, string newPrefix, bool alias = false)
    {
        oldPrefix = oldPrefix.TrimEnd('/');
        newPrefix = newPrefix.TrimEnd('/');
        if (oldPrefix.Length == 0 || oldPrefix == newPrefix
            || pairs.Any(p => p.Old.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(oldPrefix))))
        {
            return;
        }

        pairs.Add((Encoding.UTF8.GetBytes(oldPrefix), Encoding.UTF8.GetBytes(newPrefix)));
        aliases.Add(alias);
    }

    /// <summary>The first old prefix (in map order) that <paramref name="data"/> starts with at
    /// <paramref name="at"/>.</summary>
    public int MatchAt(ReadOnlySpan<byte> data, int at)
    {
        for (var i = 0; i < pairs.Count; i++)
        {
            if (data[at..].StartsWith(pairs[i].Old))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Maps a path string whose start is an old prefix (symlink targets, RPATH entries); null when none
    /// is.</summary>
    public string? MapStart(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        var i = MatchAt(bytes, 0);
        return i < 0 ? null : Encoding.UTF8.GetString([.. pairs[i].New, .. bytes.AsSpan(pairs[i].Old.Length)]);
    }
}
