namespace Depot.Archive;

/// <summary>
/// What one extraction has spent, checked as it goes against <see cref="ExtractionLimits"/>: the compression ratio
/// (bytes unpacked per compressed byte read so far, once past <see cref="ExtractionLimits.CompressionRatioFloor"/>)
/// and the free space left where the package is unpacked (before the first byte, then every
/// <see cref="ExtractionLimits.FreeSpaceCheckBytes"/>). Each refusal is one line naming the package, what was reached
/// and what to change.
/// </summary>
internal sealed class ExtractionBudget(ExtractionLimits limits, Stream compressed, string folder, string location,
    string package)
{
    private long unpacked;
    private long nextFreeSpaceCheck = limits.FreeSpaceCheckBytes;

    /// <summary>Before anything is unpacked: the tarball's own size must fit, with the reserve to spare (its unpacked
    /// size is not known before it is read).</summary>
    /// <exception cref="DepotException">Too little space (I/O).</exception>
    public void CheckFreeSpaceBefore(long compressedLength)
    {
        if (limits.FreeBytes(folder) is { } free && free < compressedLength + limits.MinFreeBytes)
        {
            throw new DepotException(ErrorKind.IO, $"{location}: {package}: not unpacked: {Mib(free)} MiB free in "
                + $"{folder}, less than the tarball's {Mib(compressedLength)} MiB and the {Mib(limits.MinFreeBytes)} "
                + "MiB Depot keeps free: make room there or install to another root");
        }
    }

    /// <summary>Counts <paramref name="bytes"/> more written, and checks the ratio and (now and then) free
    /// space.</summary>
    /// <exception cref="InvalidContentException">The ratio is over the limit (a decompression bomb).</exception>
    /// <exception cref="DepotException">Too little space left (I/O).</exception>
    public void Wrote(long bytes)
    {
        unpacked += bytes;
        if (unpacked > limits.CompressionRatioFloor)
        {
            var ratio = (double)unpacked / Math.Max(1, compressed.Position);
            if (ratio > limits.MaxCompressionRatio)
            {
                throw new InvalidContentException(location, $"{package}: refused as a decompression bomb: "
                    + $"{Mib(unpacked)} MiB unpacked from {Kib(compressed.Position)} KiB read, a ratio of "
                    + $"{ratio:0}:1, above the {limits.MaxCompressionRatio:0.##}:1 allowed past "
                    + $"{Mib(limits.CompressionRatioFloor)} MiB; if this package is honest, raise "
                    + limits.RatioSetting);
            }
        }

        if (unpacked >= nextFreeSpaceCheck)
        {
            nextFreeSpaceCheck = unpacked + limits.FreeSpaceCheckBytes;
            if (limits.FreeBytes(folder) is { } free && free < limits.MinFreeBytes)
            {
                throw new DepotException(ErrorKind.IO, $"{location}: {package}: unpacking stopped after "
                    + $"{Mib(unpacked)} MiB: {Mib(free)} MiB left free in {folder}, under the "
                    + $"{Mib(limits.MinFreeBytes)} MiB Depot keeps free: make room there or install to another root");
            }
        }
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.#",
        System.Globalization.CultureInfo.InvariantCulture);

    private static string Kib(long bytes) => (bytes / 1024.0).ToString("0.#",
        System.Globalization.CultureInfo.InvariantCulture);
}
