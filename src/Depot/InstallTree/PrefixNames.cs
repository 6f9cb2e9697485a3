using System.Text.RegularExpressions;
using Depot.Specs;

namespace Depot.InstallTree;

/// <summary>
/// The rules every install prefix obeys, whatever a spec file says (a cache writer, trusted or not, chooses names and
/// versions): a package name is <c>[A-Za-z0-9_][A-Za-z0-9_.+-]*</c>, a version has no control characters and is not
/// <c>.</c> or <c>..</c>, the hash is a DAG hash; every rendered path component is neither empty, <c>.</c> nor
/// <c>..</c>; and the final prefix, normalised, lies strictly inside its root.
/// </summary>
public static partial class PrefixNames
{
    /// <exception cref="DepotException">The spec's name, version or hash cannot be part of a path.</exception>
    public static void CheckSpec(SpecNode spec)
    {
        if (!DagHash.IsValid(spec.Hash))
        {
            throw new DepotException($"{spec.Name}: hash '{spec.Hash}' is not a DAG hash: it cannot name an install "
                + "prefix");
        }

        var label = $"{spec.Name}/{spec.Hash[..7]}";
        if (!Name().IsMatch(spec.Name))
        {
            throw new DepotException($"{label}: package name '{Printable(spec.Name)}' is not a package name "
                + "([A-Za-z0-9_][A-Za-z0-9_.+-]*): it cannot name an install prefix");
        }

        if (spec.Version.Length == 0 || spec.Version is "." or ".." || spec.Version.Any(char.IsControl))
        {
            throw new DepotException(
                $"{label}: version '{Printable(spec.Version)}' cannot be part of an install prefix");
        }
    }

    /// <summary>Refuses a rendered path component that would not name a folder of its own.</summary>
    /// <exception cref="DepotException">The component is empty, <c>.</c>, <c>..</c> or holds a separator or
    /// NUL.</exception>
    public static void CheckComponent(string component, string what)
    {
        if (component.Length == 0 || component is "." or ".." || component.Contains('/', StringComparison.Ordinal)
            || component.Contains('\0', StringComparison.Ordinal))
        {
            throw new DepotException($"{what} gives the path component '{Printable(component)}': a component may not "
                + "be empty, '.', '..' or hold '/'");
        }
    }

    /// <summary><paramref name="relative"/> under <paramref name="root"/>, normalised, which must lie strictly inside
    /// it.</summary>
    /// <exception cref="DepotException">The normalised prefix is the root itself or outside it.</exception>
    public static string Inside(string root, string relative, string what)
    {
        var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(fullRoot, relative)));
        if (!IsStrictlyInside(prefix, fullRoot))
        {
            throw new DepotException($"{what}: the install prefix {prefix} is not inside the root {fullRoot}");
        }

        return prefix;
    }

    /// <summary>True when the normalised absolute <paramref name="path"/> lies below
    /// <paramref name="directory"/>.</summary>
    public static bool IsStrictlyInside(string path, string directory)
    {
        var withSeparator = directory.EndsWith('/') ? directory : directory + "/";
        return path.Length > withSeparator.Length && path.StartsWith(withSeparator, StringComparison.Ordinal);
    }

    private static string Printable(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")]
    private static partial Regex Name();
}
