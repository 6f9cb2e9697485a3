using System.Globalization;

namespace Depot.Catalog.Pages;

/// <summary>Sizes and times as people read them; pages put the exact value beside (a title, a datetime).</summary>
internal static class HumanUnits
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    /// <summary><c>512 B</c>, <c>1.5 KiB</c>, <c>23 MiB</c>: three significant digits at most.</summary>
    public static string Size(long bytes)
    {
        if (bytes < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        }

        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        var format = value < 10 ? "0.##" : value < 100 ? "0.#" : "0";
        return value.ToString(format, CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    /// <summary>The exact byte count with thousands separators (<c>1,234,567 bytes</c>).</summary>
    public static string Bytes(long bytes) => bytes.ToString("#,0", CultureInfo.InvariantCulture) + " bytes";

    /// <summary>ISO 8601 UTC, for <c>datetime</c> attributes.</summary>
    public static string Iso(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary><c>2026-12-06 19:44 UTC</c>.</summary>
    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A count with its noun: <c>1 spec</c>, <c>3 specs</c>.</summary>
    public static string Count(long count, string noun) =>
        count.ToString("#,0", CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? "" : "s");

    /// <summary>The first seven characters of a hash, as Spack shows them.</summary>
    public static string ShortHash(string hash) => hash.Length > 7 ? hash[..7] : hash;
}
