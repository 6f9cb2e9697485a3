using System.Text.RegularExpressions;

namespace Depot.Serving;

/// <summary>What may name a served cache: one URL path segment, not one the server keeps for itself.</summary>
public static partial class CacheNames
{
    /// <summary>True when <paramref name="name"/> can name a cache.</summary>
    public static bool IsValid(string name) =>
        Shape().IsMatch(name) && !ServeConfig.ReservedNames.Contains(name);

    /// <summary>The cache name a zero-config start gives a mirror: its last path segment (or configured name).
    /// </summary>
    /// <exception cref="DepotException">No usable segment.</exception>
    public static string FromMirror(string mirror)
    {
        var trimmed = mirror.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        var last = slash < 0 ? trimmed : trimmed[(slash + 1)..];
        var colon = last.LastIndexOf(':');
        if (slash < 0 && colon >= 0)
        {
            last = last[(colon + 1)..];
        }

        var name = Unsafe().Replace(last, "-").Trim('-', '.');
        if (name.Length == 0 || !IsValid(name))
        {
            throw new DepotException(ErrorKind.Usage, $"{mirror}: cannot name a cache after it (its last path segment"
                + $" '{last}' is empty or reserved); serve it from a configuration file with a name of its own");
        }

        return name;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Shape();

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex Unsafe();
}
