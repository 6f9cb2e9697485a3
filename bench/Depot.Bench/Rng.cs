using System.Security.Cryptography;
using System.Text;

namespace Depot.Bench;

/// <summary>
/// A small deterministic generator (SplitMix64). System.Random would do, but this one is guaranteed stable across
/// .NET versions, so a seed always yields the same mirror.
/// </summary>
internal sealed class Rng
{
    private ulong state;

    public Rng(ulong seed) => state = seed;

    /// <summary>A generator for item <paramref name="index"/> of the stream <paramref name="seed"/>.</summary>
    public static Rng For(long seed, long index, ulong salt = 0) =>
        new(Mix(Mix(unchecked((ulong)seed) ^ salt) + unchecked((ulong)index)));

    /// <summary>A generator seeded from a string (stable across runs and seeds).</summary>
    public static Rng ForText(string text) =>
        new(BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0));

    public static ulong Mix(ulong z)
    {
        z = unchecked(z + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    public ulong NextULong()
    {
        state = unchecked(state + 0x9E3779B97F4A7C15UL);
        var z = state;
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n).</summary>
    public int Next(int n) => n <= 1 ? 0 : (int)(NextULong() % (ulong)n);

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => (NextULong() >> 11) * (1.0 / (1UL << 53)) < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>Picks by integer weights.</summary>
    public T Weighted<T>(IReadOnlyList<(T Item, int Weight)> items)
    {
        var total = 0;
        foreach (var (_, w) in items)
        {
            total += w;
        }

        var r = Next(total);
        foreach (var (item, w) in items)
        {
            if (r < w)
            {
                return item;
            }

            r -= w;
        }

        return items[^1].Item;
    }

    public string Hex(int chars)
    {
        var sb = new StringBuilder(chars);
        while (sb.Length < chars)
        {
            sb.Append(NextULong().ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
        }

        return sb.ToString(0, chars);
    }
}
