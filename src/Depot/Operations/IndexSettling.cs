using System.Security.Cryptography;
using Depot.Layout;

namespace Depot.Operations;

/// <summary>One index update as written: what it holds and the entries it skipped as bad.</summary>
/// <param name="Result">What the update did.</param>
/// <param name="Checksum">sha256 of the index JSON written.</param>
/// <param name="Roots">Hashes the index marks <c>in_buildcache</c>.</param>
/// <param name="Skipped">Keys of entries read and skipped as bad (not missing: they will never be indexed).</param>
internal sealed record WrittenIndex(IndexResult Result, string Checksum, IReadOnlySet<string> Roots,
    IReadOnlySet<string> Skipped);

/// <summary>
/// The check after an index write on a store without atomic conditional writes: a concurrent writer whose compare
/// passed before this write may have replaced the index after it, or this write may have replaced theirs. Whichever
/// write lands last, its writer checks after it landed, so one of them always sees the loss and makes the update
/// again.
/// </summary>
internal static class IndexSettling
{
    /// <summary>
    /// True when the index in the store is still the one written and every entry listed now is in it (or was skipped
    /// as bad); false when another writer replaced it or added an entry meanwhile.
    /// </summary>
    public static async Task<bool> IsSettledAsync(IBuildCacheLayout layout, WrittenIndex written,
        CancellationToken cancellationToken)
    {
        if (await CurrentChecksumAsync(layout, cancellationToken).ConfigureAwait(false) != written.Checksum)
        {
            return false;
        }

        await foreach (var entry in layout.ListSpecEntriesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!written.Roots.Contains(entry.Hash) && !written.Skipped.Contains(entry.Key))
            {
                return false;
            }
        }

        return true;
    }

    // v3 and OCI name the index blob by its sha256 in a small manifest; v2's index.json.hash is written apart from
    // index.json (two racing writers can leave them mismatched), so there the index itself is hashed.
    private static async Task<string?> CurrentChecksumAsync(IBuildCacheLayout layout,
        CancellationToken cancellationToken)
    {
        try
        {
            if (layout.Version != 2)
            {
                return await layout.ReadIndexChecksumAsync(cancellationToken).ConfigureAwait(false);
            }

            return await layout.ReadIndexBytesAsync(cancellationToken).ConfigureAwait(false) is { } found
                ? Convert.ToHexStringLower(SHA256.HashData(found.Json)) : null;
        }
        catch (InvalidContentException)
        {
            return null; // torn or replaced while read: not ours
        }
    }
}
