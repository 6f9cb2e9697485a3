using Depot.Layout.Detection;
using Depot.Sources;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// <c>depot push MIRROR --sources</c>: Spack's download cache (<see cref="SourceCacheLocator"/>) into a mirror's
/// source half, archives checked against their names on the way (<see cref="SourceTransfer"/>). Spack fetches sources
/// from directories, buckets and containers; not from a registry, which is refused.
/// </summary>
public static class SourcePushOperation
{
    /// <summary>Uploads what <paramref name="sourceCache"/> (a download cache's root, holding
    /// <c>_source-cache/</c>) holds and <paramref name="target"/> lacks.</summary>
    /// <exception cref="ReadOnlyStoreException">The mirror is plain HTTP.</exception>
    /// <exception cref="DepotException">The mirror is a registry, or cannot be written at all.</exception>
    public static Task<SourceTransferResult> RunAsync(Mirror target, string sourceCache,
        SourceTransferOptions options, IProgress<SourceTransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var destination = SourceDestination.Of(target);
        return SourceTransfer.RunAsync(new LocalDirectoryStore(sourceCache), destination, options, progress,
            cancellationToken);
    }
}

/// <summary>
/// <c>depot copy SRC DST --sources</c>: a source mirror between any two stores that list (a source mirror has no
/// index, so plain HTTP cannot be copied from), each archive checked against its name.
/// </summary>
public static class SourceCopyOperation
{
    /// <exception cref="DepotException">The source cannot be listed or holds no source mirror; the destination is a
    /// registry or read-only.</exception>
    public static async Task<SourceTransferResult> RunAsync(Mirror source, Mirror destination,
        SourceTransferOptions options, IProgress<SourceTransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        var from = SourceVerification.Listable(source.Store)
            ?? throw new DepotException(ErrorKind.Unsupported, $"{source.Store.Root}: a source mirror can be copied "
                + "only from where it can be listed (a directory, bucket or container; not plain HTTP or a registry)");
        var to = SourceDestination.Of(destination);
        if (!await SourceMirror.HoldsSourcesAsync(from, cancellationToken).ConfigureAwait(false))
        {
            throw new DepotException(ErrorKind.NotFound,
                $"{from.Root}: no source mirror here (nothing under {SourceMirror.Prefix})");
        }

        return await SourceTransfer.RunAsync(from, to, options, progress, cancellationToken).ConfigureAwait(false);
    }
}

internal static class SourceDestination
{
    /// <summary>The mirror's store, for writing sources.</summary>
    public static IObjectStore Of(Mirror mirror)
    {
        var store = mirror.Writable;
        return BuildCache.HoldsOciLayout(store)
            ? throw new DepotException(ErrorKind.Unsupported, $"{store.Root}: Spack fetches no sources from an OCI "
                + "registry; put the source mirror in a directory, bucket or container")
            : store;
    }
}
