using Depot.Formats;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>
/// Objects streamed from one mirror into another, their sha256 and size checked before they become visible.
/// </summary>
public static class CheckedCopy
{
    /// <summary>
    /// Copies <paramref name="blob"/> to <paramref name="key"/> of <paramref name="to"/>; skipped when a
    /// content-addressed blob of the same size is there already. Returns the bytes copied (or found).
    /// </summary>
    /// <exception cref="InvalidContentException">
    /// The object does not match its checksum; nothing was written.
    /// </exception>
    public static async Task<long> CopyAsync(IStoreReader from, TarballRef blob, IObjectStore to, string key,
        Action<long>? progress, CancellationToken cancellationToken = default)
    {
        if (blob.Length is { } known && key.StartsWith("blobs/", StringComparison.Ordinal)
            && (await to.GetInfoAsync(key, cancellationToken).ConfigureAwait(false))?.Length == known)
        {
            return known; // content-addressed and complete
        }

        await using var staged = await to.CreateStagedAsync(cancellationToken).ConfigureAwait(false);
        var (_, written) = await StageAsync(from, blob, staged, progress, cancellationToken).ConfigureAwait(false);
        await staged.CommitAsync(key, cancellationToken).ConfigureAwait(false);
        return written;
    }

    /// <summary>
    /// Streams <paramref name="blob"/> into <paramref name="staged"/>, hashing on the way, and returns its sha256 and
    /// size. A mismatch throws; the caller's staged object is then discarded, never committed.
    /// </summary>
    /// <exception cref="InvalidContentException">The object does not match its checksum or size.</exception>
    public static async Task<(string Checksum, long Written)> StageAsync(IStoreReader from, TarballRef blob,
        IStagedObject staged, Action<long>? progress, CancellationToken cancellationToken = default)
    {
        string checksum;
        long written;
        await using (var source = await from.OpenReadAsync(blob.Key, cancellationToken).ConfigureAwait(false))
        await using (var hashing = new ChecksumStream(staged.Content, leaveOpen: true) { Written = progress })
        {
            await source.CopyToAsync(hashing, 1 << 20, cancellationToken).ConfigureAwait(false);
            checksum = hashing.Sha256Hex();
            written = hashing.BytesWritten;
        }

        if (checksum != blob.Sha256 || (blob.Length is { } length && length != written))
        {
            throw new InvalidContentException(from.Describe(blob.Key), $"checksum mismatch: the entry expects sha256 "
                + $"{blob.Sha256}, the object is sha256 {checksum} ({written} bytes); nothing was copied");
        }

        return (checksum, written);
    }
}
