using System.Text;

namespace Depot.Archive;

/// <summary>
/// Finds install prefixes in file contents with Spack's rule (<c>relocate_text.py</c>):
/// <c>(?&lt;![\w\-_/])([\w\-_]*?)(P1|P2|…)</c> over bytes. A prefix counts when the run of word characters and
/// dashes right before it does not follow a '/' — so <c>-I/old/include</c> and <c>x=/old</c> match while
/// <c>/home/old</c> does not match <c>/old</c>. Only whether a file mentions any prefix matters here, so a prefix that
/// extends another one in the set is dropped: every match of it is a match of the shorter one.
/// </summary>
public sealed class PrefixMatcher
{
    private readonly byte[][] prefixes;

    public PrefixMatcher(IEnumerable<string> prefixes)
    {
        var all = prefixes.Where(p => p.Length > 0).Select(Encoding.UTF8.GetBytes).DistinctBy(Convert.ToHexString)
            .ToList();
        this.prefixes = all.Where(p => !all.Any(q => q.Length < p.Length && p.AsSpan().StartsWith(q))).ToArray();
        Longest = this.prefixes.Length == 0 ? 0 : this.prefixes.Max(p => p.Length);
    }

    public int Longest { get; }

    /// <summary>True when <paramref name="data"/> (a whole file or string) mentions a prefix.</summary>
    public bool Matches(ReadOnlySpan<byte> data) => Find(data, 0) >= 0;

    public bool Matches(string text) => Matches(Encoding.UTF8.GetBytes(text));

    /// <summary>A scanner for one file read in chunks; matches that straddle chunk boundaries are found.</summary>
    public Window NewWindow() => new(this);

    // Position of the first match starting at or after `from`, or -1.
    private int Find(ReadOnlySpan<byte> data, int from)
    {
        var best = -1;
        foreach (var prefix in prefixes)
        {
            var start = from;
            while (start <= data.Length - prefix.Length)
            {
                var at = data[start..].IndexOf(prefix);
                if (at < 0)
                {
                    break;
                }

                at += start;
                if (AtBoundary(data, at))
                {
                    if (best < 0 || at < best)
                    {
                        best = at;
                    }

                    break;
                }

                start = at + 1;
            }
        }

        return best;
    }

    /// <summary>
    /// Spack's left boundary for a prefix found at <paramref name="at"/>: the run of word characters and dashes right
    /// before it must not follow a '/' (the <c>(?&lt;![\w\-_/])([\w\-_]*?)</c> part of its regex).
    /// </summary>
    internal static bool AtBoundary(ReadOnlySpan<byte> data, int at)
    {
        var i = at;
        while (i > 0 && IsWordOrDash(data[i - 1]))
        {
            i--;
        }

        return i == 0 || data[i - 1] != (byte)'/';
    }

    /// <summary>Python's bytes <c>[\w\-_]</c>: ASCII letters, digits, '_' and '-'.</summary>
    internal static bool IsWordOrDash(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'_' or (byte)'-';

    /// <summary>
    /// Keeps the tail of the previous chunk (the longest prefix plus 4 KiB of context for the boundary rule) in front
    /// of the next one.
    /// </summary>
    public sealed class Window
    {
        private const int Context = 4096;
        private readonly PrefixMatcher matcher;
        private byte[] buffer = [];
        private int kept;
        private bool atFileStart = true;

        internal Window(PrefixMatcher matcher) => this.matcher = matcher;

        /// <summary>Scans the next chunk; true once a prefix has been seen.</summary>
        public bool Scan(ReadOnlySpan<byte> chunk)
        {
            if (matcher.prefixes.Length == 0)
            {
                return false;
            }

            if (atFileStart)
            {
                // First chunk: scan it where it lies, keep only its tail.
                atFileStart = false;
                var found = matcher.Find(chunk, 0) >= 0;
                KeepTail(chunk);
                return found;
            }

            var total = kept + chunk.Length;
            if (buffer.Length < total)
            {
                Array.Resize(ref buffer, total);
            }

            chunk.CopyTo(buffer.AsSpan(kept));
            var data = buffer.AsSpan(0, total);

            // Matches that end inside the kept bytes were found already; start where a new one could begin.
            var hit = matcher.Find(data, Math.Max(0, kept - matcher.Longest + 1)) >= 0;
            KeepTail(data);
            return hit;
        }

        private void KeepTail(ReadOnlySpan<byte> data)
        {
            var keep = Math.Min(matcher.Longest + Context, data.Length);
            if (buffer.Length < keep)
            {
                Array.Resize(ref buffer, keep);
            }

            data[^keep..].CopyTo(buffer);
            kept = keep;
        }
    }
}
