using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Depot.Layout;
using Depot.Storage;

namespace Depot.Serving;

/// <summary>One part of a resumable upload: <c>Content-Range: bytes START-END/TOTAL</c>.</summary>
/// <param name="Start">First byte of the part.</param>
/// <param name="End">Last byte of the part (inclusive).</param>
/// <param name="Total">Size of the whole blob.</param>
public readonly record struct UploadPart(long Start, long End, long Total)
{
    /// <summary>Parses <c>bytes START-END/TOTAL</c>.</summary>
    /// <exception cref="DepotException">Anything else, or a range outside the total (usage).</exception>
    public static UploadPart Parse(string header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var text = header.Trim();
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (text.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase) && dash > 6 && slash > dash
            && Number(text[6..dash]) is { } start && Number(text[(dash + 1)..slash]) is { } end
            && Number(text[(slash + 1)..]) is { } total && start <= end && end < total)
        {
            return new UploadPart(start, end, total);
        }

        throw new DepotException(ErrorKind.Usage,
            $"Content-Range '{header}': expected bytes START-END/TOTAL with START <= END < TOTAL");
    }

    /// <summary>Bytes in the part.</summary>
    public long Length => End - Start + 1;

    private static long? Number(string text) =>
        long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}

/// <summary>What a blob upload (or one part of it) did.</summary>
public enum BlobUploadOutcome
{
    /// <summary>The blob is now stored (it was not before).</summary>
    Stored,

    /// <summary>The cache held the blob already; nothing was written.</summary>
    AlreadyThere,

    /// <summary>A part was kept; the blob is not complete yet (see the upload offset).</summary>
    Partial,
}

/// <summary>
/// The blobs of one cache as pushers upload them: which of a batch are missing, and uploads whose sha256 is checked
/// before anything becomes visible (whole, or resumed in parts). Unfinished parts are staged in this process's private
/// folder: resuming needs the same server process (replicas share the store, not their staging).
/// </summary>
public sealed class UploadedBlobs
{
    /// <summary>Most digests one "which are missing" question may name.</summary>
    public const int MaxDigestsPerQuery = 10_000;

    private const int CopyBuffer = 1 << 17;
    private readonly Func<IObjectStore> store;
    private readonly long maxBlobBytes;
    private readonly Lazy<string> staging;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> partLocks = new(StringComparer.Ordinal);

    /// <summary>Blobs of the store <paramref name="store"/> gives (opened on first use).</summary>
    public UploadedBlobs(string cacheName, Func<IObjectStore> store, long maxBlobBytes)
    {
        this.store = store;
        this.maxBlobBytes = maxBlobBytes;
        staging = new Lazy<string>(() =>
            Directory.CreateDirectory(Path.Combine(PrivateTemp.Folder, "uploads", cacheName)).FullName);
    }

    /// <summary>Largest blob accepted, in bytes (<c>limits.max_body_bytes</c>).</summary>
    public long MaxBlobBytes => maxBlobBytes;

    /// <summary>The key of the blob with sha256 <paramref name="hex"/>.</summary>
    public static string KeyOf(string hex) => BuildCacheV3.BlobKey("sha256", hex);

    /// <summary>The hex of <c>sha256:&lt;hex&gt;</c>.</summary>
    /// <exception cref="DepotException">Not a sha256 digest (usage).</exception>
    public static string HexOf(string digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        return digest.StartsWith("sha256:", StringComparison.Ordinal) && IsHex(digest[7..]) ? digest[7..]
            : throw new DepotException(ErrorKind.Usage, $"'{digest}' is not a digest (sha256:<64 lower-case hex>)");
    }

    /// <summary>True for 64 lower-case hex digits.</summary>
    public static bool IsHex(string text) =>
        text is { Length: 64 } && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>The digests of <paramref name="digests"/> whose blob the cache does not hold, in the order given.
    /// </summary>
    /// <exception cref="DepotException">Too many digests, or one malformed (usage); the store fails.</exception>
    public async Task<IReadOnlyList<string>> FindMissingAsync(IReadOnlyList<string> digests,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(digests);
        if (digests.Count > MaxDigestsPerQuery)
        {
            throw new DepotException(ErrorKind.Usage,
                $"{digests.Count} digests in one question; at most {MaxDigestsPerQuery}");
        }

        var hexes = digests.Select(HexOf).ToList();
        var present = new bool[hexes.Count];
        var target = store();
        await Parallel.ForEachAsync(Enumerable.Range(0, hexes.Count),
            new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            async (i, ct) => present[i] = await target.GetInfoAsync(KeyOf(hexes[i]), ct).ConfigureAwait(false)
                is not null).ConfigureAwait(false);
        return digests.Where((_, i) => !present[i]).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Bytes held of an unfinished upload of <paramref name="hex"/>, or null when none is under way here.
    /// </summary>
    public long? UploadOffset(string hex)
    {
        var part = PartPath(hex);
        return File.Exists(part) ? new FileInfo(part).Length : null;
    }

    /// <summary>
    /// Uploads the blob <paramref name="hex"/> from <paramref name="body"/>: whole when <paramref name="part"/> is
    /// null, else one part of it (kept until the last part arrives). The sha256 of the whole blob must be
    /// <paramref name="hex"/>; otherwise nothing is stored. Returns what happened and the bytes held.
    /// </summary>
    /// <exception cref="InvalidContentException">The blob's sha256 differs (nothing stored).</exception>
    /// <exception cref="BodyTooLargeException">The blob is larger than the limit.</exception>
    /// <exception cref="DepotException">A part that does not follow what is held (conflict), a body shorter or longer
    /// than its range (usage), or the store fails.</exception>
    public async Task<(BlobUploadOutcome Outcome, long Offset)> UploadAsync(string hex, Stream body, UploadPart? part,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!IsHex(hex))
        {
            throw new DepotException(ErrorKind.Usage, $"'{hex}' is not a sha256 digest (64 lower-case hex)");
        }

        var target = store();
        var key = KeyOf(hex);
        if (part is { Total: var total } && total > maxBlobBytes)
        {
            throw new BodyTooLargeException($"blob sha256:{hex} of {total} bytes is over the limit of {maxBlobBytes}");
        }

        if (await target.GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            DeletePart(hex);
            return (BlobUploadOutcome.AlreadyThere, existing.Length);
        }

        return part is { } p ? await UploadPartAsync(target, hex, body, p, cancellationToken).ConfigureAwait(false)
            : (BlobUploadOutcome.Stored, await UploadWholeAsync(target, hex, body, cancellationToken)
                .ConfigureAwait(false));
    }

    private async Task<long> UploadWholeAsync(IObjectStore target, string hex, Stream body,
        CancellationToken cancellationToken)
    {
        await using var staged = await target.CreateStagedAsync(cancellationToken).ConfigureAwait(false);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var length = await CopyHashedAsync(body, staged.Content, sha, maxBlobBytes, cancellationToken)
            .ConfigureAwait(false);
        CheckDigest(hex, sha.GetHashAndReset(), length);
        await staged.CommitAsync(KeyOf(hex), cancellationToken).ConfigureAwait(false);
        return length;
    }

    private async Task<(BlobUploadOutcome, long)> UploadPartAsync(IObjectStore target, string hex, Stream body,
        UploadPart part, CancellationToken cancellationToken)
    {
        var gate = partLocks.GetOrAdd(hex, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var path = PartPath(hex);
            await using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            if (part.Start > file.Length)
            {
                throw new DepotException(ErrorKind.Conflict, $"blob sha256:{hex}: part starts at byte {part.Start}, "
                    + $"but this server holds {file.Length} bytes of it (resume from there)");
            }

            file.SetLength(part.Start); // a part sent again replaces what followed it
            file.Position = part.Start;
            var written = await CopyHashedAsync(body, file, null, part.Length, cancellationToken)
                .ConfigureAwait(false);
            if (written != part.Length)
            {
                file.SetLength(part.Start);
                throw new DepotException(ErrorKind.Usage, $"blob sha256:{hex}: part {part.Start}-{part.End} "
                    + $"carried {written} bytes, not {part.Length}");
            }

            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (part.End + 1 < part.Total)
            {
                return (BlobUploadOutcome.Partial, file.Length);
            }

            file.Position = 0;
            var digest = await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
            try
            {
                CheckDigest(hex, digest, file.Length);
            }
            catch (InvalidContentException)
            {
                file.SetLength(0);
                File.Delete(path);
                throw;
            }

            file.Position = 0;
            await target.WriteAsync(KeyOf(hex), file, cancellationToken).ConfigureAwait(false);
            var length = file.Length;
            File.Delete(path);
            return (BlobUploadOutcome.Stored, length);
        }
        finally
        {
            gate.Release();
        }
    }

    private static void CheckDigest(string hex, byte[] digest, long length)
    {
        var actual = Convert.ToHexStringLower(digest);
        if (actual != hex)
        {
            throw new InvalidContentException($"blob sha256:{hex}",
                $"the {length} bytes received have sha256 {actual}: nothing stored");
        }
    }

    // Copies at most `limit` bytes (a byte more is an error only when hashing a whole blob: a part stops at its end).
    private static async Task<long> CopyHashedAsync(Stream from, Stream to, IncrementalHash? sha, long limit,
        CancellationToken cancellationToken)
    {
        var buffer = new byte[CopyBuffer];
        long total = 0;
        while (true)
        {
            var n = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return total;
            }

            total += n;
            if (total > limit)
            {
                if (sha is null)
                {
                    return total; // a part longer than its range: reported by the caller
                }

                throw new BodyTooLargeException($"blob over the limit of {limit} bytes");
            }

            sha?.AppendData(buffer, 0, n);
            await to.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
        }
    }

    private string PartPath(string hex) => Path.Combine(staging.Value, hex + ".part");

    private void DeletePart(string hex)
    {
        var path = PartPath(hex);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}

/// <summary>A request body over the server's limit (HTTP 413).</summary>
public sealed class BodyTooLargeException(string message) : DepotException(ErrorKind.Usage, message);
