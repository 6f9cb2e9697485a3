using System.Globalization;

namespace Depot.Server;

/// <summary>A single byte range of a <c>Range: bytes=…</c> header, resolved against the object's size.</summary>
/// <param name="Offset">First byte.</param>
/// <param name="Length">Number of bytes (at least 1).</param>
public readonly record struct ByteRange(long Offset, long Length)
{
    /// <summary>The <c>Content-Range</c> value for an object of <paramref name="size"/> bytes.</summary>
    public string ContentRange(long size) =>
        string.Create(CultureInfo.InvariantCulture, $"bytes {Offset}-{Offset + Length - 1}/{size}");
}

/// <summary>
/// Parses <c>Range</c> (RFC 9110 §14): one range is served as 206; several ranges, another unit or a malformed header
/// are ignored (the whole object, 200), which the RFC allows; a range that starts past the end is unsatisfiable (416).
/// </summary>
public static class RangeHeader
{
    /// <summary>What a Range header asks of an object of <paramref name="size"/> bytes.</summary>
    /// <returns>(null, false): serve it whole; (range, false): serve the range; (null, true): answer 416.</returns>
    public static (ByteRange? Range, bool Unsatisfiable) Parse(string? header, long size)
    {
        if (string.IsNullOrWhiteSpace(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return (null, false);
        }

        var spec = header[6..].Trim();
        if (spec.Contains(',', StringComparison.Ordinal))
        {
            return (null, false);
        }

        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return (null, false);
        }

        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            // Suffix: the last N bytes.
            if (!TryNumber(last, out var suffix))
            {
                return (null, false);
            }

            if (suffix == 0 || size == 0)
            {
                return (null, true);
            }

            var n = Math.Min(suffix, size);
            return (new ByteRange(size - n, n), false);
        }

        if (!TryNumber(first, out var start) || (last.Length > 0 && (!TryNumber(last, out var end0) || end0 < start)))
        {
            return (null, false);
        }

        if (start >= size)
        {
            return (null, true);
        }

        var end = last.Length == 0 ? size - 1 : Math.Min(long.Parse(last, CultureInfo.InvariantCulture), size - 1);
        return (new ByteRange(start, end - start + 1), false);
    }

    private static bool TryNumber(string text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
