using System.Globalization;

namespace Depot.Cli.Commands;

/// <summary>Byte counts as people read them (B, KiB, MiB, GiB, TiB).</summary>
internal static class ByteSize
{
    public static string Format(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB"),
        < 1L << 40 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:0.00} GiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1099511627776.0:0.00} TiB"),
    };
}
