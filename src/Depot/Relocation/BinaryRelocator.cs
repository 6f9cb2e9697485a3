using System.Text;

namespace Depot.Relocation;

/// <summary>
/// Rewrites prefixes embedded in binaries in place, as Spack's <c>BinaryFilePrefixReplacer</c> does
/// (<c>relocation.md</c> §4.3): regex <c>(OLD1|…)([^\0]{0,7}\0)?</c>; a shorter new prefix is padded with leading '/'
/// (<c>//////new/prefix/lib</c>) so every string keeps its length, or, for a C string ending within 7 bytes, written
/// as new + suffix + NUL when it shrinks by more than 7. A longer new prefix cannot fit: the string is reported and
/// left as it was. Spack refuses to pad a C string whose last 7 bytes would change (another constant may share that
/// tail); Depot relaxes this only for a short alias standing for a longer prefix (where Spack fails anyway) when the
/// string ends exactly at the prefix — its tail is then the package hash, which no other constant shares.
/// </summary>
public static class BinaryRelocator
{
    private const int SuffixSafetySize = 7;

    /// <summary>Relocates <paramref name="data"/> in place; returns the strings that could not be rewritten.</summary>
    public static IReadOnlyList<string> RelocateInPlace(Span<byte> data, PrefixMap map, out bool modified)
    {
        modified = false;
        var problems = new List<string>();
        if (map.IsEmpty)
        {
            return problems;
        }

        var first = map.Pairs[0].Old[0];
        var allSameStart = map.Pairs.All(p => p.Old[0] == first);
        var at = 0;
        while (at < data.Length)
        {
            int j;
            if (allSameStart)
            {
                var next = data[at..].IndexOf(first);
                if (next < 0)
                {
                    break;
                }

                j = at + next;
            }
            else
            {
                j = at;
            }

            var which = map.MatchAt(data, j);
            if (which < 0)
            {
                at = j + 1;
                continue;
            }

            var (old, @new) = map.Pairs[which];
            var afterPrefix = j + old.Length;
            var window = data[afterPrefix..Math.Min(data.Length, afterPrefix + SuffixSafetySize + 1)];
            var nul = window.IndexOf((byte)0);
            var nullTerminated = nul >= 0;
            var suffixLength = nullTerminated ? nul : 0;
            var matchEnd = nullTerminated ? afterPrefix + nul + 1 : afterPrefix;
            var shorter = old.Length - @new.Length;
            if (shorter < 0)
            {
                problems.Add($"string {Describe(data, j)} cannot grow from {old.Length} to {@new.Length} bytes");
            }
            else if (!nullTerminated || suffixLength >= SuffixSafetySize || (suffixLength == 0 && map.IsAlias(which))
                     || old.AsSpan(Math.Max(0, old.Length - SuffixSafetySize + suffixLength))
                         .SequenceEqual(@new.AsSpan(Math.Max(0, @new.Length - SuffixSafetySize + suffixLength))))
            {
                data.Slice(j, shorter).Fill((byte)'/');
                @new.CopyTo(data[(j + shorter)..]);
                modified = true;
            }
            else if (shorter > SuffixSafetySize)
            {
                // new + old suffix + NUL; the bytes after the new NUL keep their old content.
                var suffix = data.Slice(afterPrefix, suffixLength + 1).ToArray();
                @new.CopyTo(data[j..]);
                suffix.CopyTo(data[(j + @new.Length)..]);
                modified = true;
            }
            else
            {
                problems.Add($"C string {Describe(data, j)} cannot shrink by {shorter} bytes and keep its suffix");
            }

            at = matchEnd;
        }

        return problems;
    }

    private static string Describe(ReadOnlySpan<byte> data, int at)
    {
        var end = data[at..].IndexOf((byte)0);
        var text = data.Slice(at, end < 0 ? Math.Min(120, data.Length - at) : Math.Min(end, 120));
        return "'" + Encoding.UTF8.GetString(text) + "' at offset " + at;
    }
}
