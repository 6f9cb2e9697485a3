namespace Depot.Relocation;

/// <summary>
/// Rewrites prefixes in text exactly like Spack's <c>TextFilePrefixReplacer</c>: the byte regex
/// <c>(?&lt;![\w\-_/])([\w\-_]*?)(OLD1|OLD2|…)([\w\-_/]*)</c> replaced by group 1 + new + group 3, left to right.
/// A prefix right after '/' (or after a word run that follows '/') is left alone; the length may change.
/// </summary>
public static class TextRelocator
{
    /// <summary>The relocated content, or null when nothing matched.</summary>
    public static byte[]? Relocate(ReadOnlySpan<byte> data, PrefixMap map)
    {
        if (map.IsEmpty)
        {
            return null;
        }

        List<byte>? output = null;
        var copied = 0;
        var at = 0;
        while (at < data.Length)
        {
            var slash = data[at..].IndexOf((byte)'/');
            if (slash < 0)
            {
                break;
            }

            var j = at + slash;
            var which = map.MatchAt(data, j);
            if (which < 0 || !Archive.PrefixMatcher.AtBoundary(data, j))
            {
                at = j + 1;
                continue;
            }

            var (old, @new) = map.Pairs[which];
            output ??= new List<byte>(data.Length + 256);
            output.AddRange(data[copied..j]);
            output.AddRange(@new);
            copied = j + old.Length;

            // Group 3 swallows the rest of the path: nothing inside it is matched again.
            var end = copied;
            while (end < data.Length && (Archive.PrefixMatcher.IsWordOrDash(data[end]) || data[end] == (byte)'/'))
            {
                end++;
            }

            at = end;
        }

        if (output is null)
        {
            return null;
        }

        output.AddRange(data[copied..]);
        return [.. output];
    }

    /// <summary>
    /// True when <paramref name="data"/> still mentions one of the map's old prefixes anywhere, not counting places
    /// where a new prefix that happens to start with the old one stands.
    /// </summary>
    public static bool MentionsOld(ReadOnlySpan<byte> data, PrefixMap map)
    {
        foreach (var (old, _) in map.Pairs)
        {
            for (var at = 0; at <= data.Length - old.Length;)
            {
                var found = data[at..].IndexOf(old);
                if (found < 0)
                {
                    break;
                }

                found += at;
                var isNew = false;
                foreach (var (_, @new) in map.Pairs)
                {
                    isNew |= @new.Length > old.Length && data[found..].StartsWith(@new);
                }

                if (!isNew)
                {
                    return true;
                }

                at = found + 1;
            }
        }

        return false;
    }
}
