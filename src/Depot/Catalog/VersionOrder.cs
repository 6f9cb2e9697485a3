namespace Depot.Catalog;

/// <summary>
/// Orders version strings roughly as Spack does, for display: components split at <c>.</c>, <c>-</c>, <c>_</c> and
/// between digits and letters; numbers compare as numbers and above words; <c>develop</c>, <c>main</c>,
/// <c>master</c>, <c>head</c>, <c>trunk</c> and <c>stable</c> above every numbered version. Not Spack's full rules
/// (no ranges, no pre-release words): only which version the catalog shows first.
/// </summary>
public sealed class VersionOrder : IComparer<string>
{
    private static readonly string[] Infinite = ["develop", "main", "master", "head", "trunk", "stable"];

    /// <summary>The one instance.</summary>
    public static VersionOrder Instance { get; } = new();

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        var ix = Array.IndexOf(Infinite, x);
        var iy = Array.IndexOf(Infinite, y);
        if (ix >= 0 || iy >= 0)
        {
            // develop > main > master > … > any numbered version
            return ix < 0 ? -1 : iy < 0 ? 1 : iy.CompareTo(ix);
        }

        int px = 0, py = 0;
        while (true)
        {
            var a = Next(x, ref px);
            var b = Next(y, ref py);
            if (a.IsEmpty || b.IsEmpty)
            {
                return a.IsEmpty && b.IsEmpty ? string.CompareOrdinal(x, y) : a.IsEmpty ? -1 : 1;
            }

            var c = CompareComponent(a, b);
            if (c != 0)
            {
                return c;
            }
        }
    }

    private static int CompareComponent(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var numA = char.IsAsciiDigit(a[0]);
        var numB = char.IsAsciiDigit(b[0]);
        if (numA != numB)
        {
            return numA ? 1 : -1;
        }

        if (!numA)
        {
            return a.CompareTo(b, StringComparison.Ordinal);
        }

        a = a.TrimStart('0');
        b = b.TrimStart('0');
        return a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.CompareTo(b, StringComparison.Ordinal);
    }

    private static ReadOnlySpan<char> Next(string s, ref int position)
    {
        while (position < s.Length && s[position] is '.' or '-' or '_' or '+')
        {
            position++;
        }

        var start = position;
        if (position < s.Length)
        {
            var digits = char.IsAsciiDigit(s[position]);
            while (position < s.Length && s[position] is not ('.' or '-' or '_' or '+')
                && char.IsAsciiDigit(s[position]) == digits)
            {
                position++;
            }
        }

        return s.AsSpan(start, position - start);
    }
}
