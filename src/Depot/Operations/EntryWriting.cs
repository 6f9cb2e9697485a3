using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// How operations that add entries to a mirror (push, copy, and an upload) reach its layout's writer
/// (<see cref="IBuildCacheWriter"/>): the one place a <see cref="PushLayout"/> becomes a layout, and the finish that
/// publishes keys and updates the index.
/// </summary>
public static class EntryWriting
{
    /// <summary>
    /// The writer of <paramref name="layout"/> on <paramref name="store"/>. v2 spec files get
    /// <c>buildcache_layout_version</c> 1 for <see cref="PushLayout.V2"/> (Spack 0.21) and 2 for
    /// <see cref="PushLayout.V2Spack022"/>, whatever <paramref name="options"/> says.
    /// </summary>
    /// <exception cref="DepotException">
    /// The OCI layout asked of a store that is not a registry, or another layout of a registry.
    /// </exception>
    public static async Task<IBuildCacheWriter> OpenAsync(IObjectStore store, PushLayout layout,
        EntryWriterOptions options, CancellationToken cancellationToken = default)
    {
        if ((layout == PushLayout.Oci) != BuildCache.HoldsOciLayout(store))
        {
            throw new DepotException(ErrorKind.Unsupported, layout == PushLayout.Oci
                ? $"{store.Root}: only an OCI registry (oci://, oci+http://) holds the OCI layout"
                : $"{store.Root}: a registry holds Spack's OCI layout only",
                layout == PushLayout.Oci ? null : new ErrorHint(HintAction.UseMirrorLayout));
        }

        int? version = layout switch { PushLayout.Oci => null, PushLayout.V3 => 3, _ => 2 };
        var target = await BuildCache.OpenForWriteAsync(store, version, cancellationToken).ConfigureAwait(false);
        return target.CreateWriter(options with { SpecLayoutVersion = layout == PushLayout.V2 ? 1 : 2 });
    }

    /// <summary>
    /// The writer of <paramref name="mirror"/> (opened for writing) in <paramref name="layout"/>: a cache served by
    /// <c>depot serve</c> through its upload API, else the store itself, which must then be writable.
    /// </summary>
    /// <exception cref="ReadOnlyStoreException">The mirror can only be read (a web server that is not Depot's).
    /// </exception>
    /// <exception cref="DepotException">As <see cref="OpenAsync(IObjectStore, PushLayout, EntryWriterOptions,
    /// CancellationToken)"/>, or the server refused the token.</exception>
    public static async Task<IBuildCacheWriter> OpenAsync(Mirror mirror, PushLayout layout,
        EntryWriterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentNullException.ThrowIfNull(options);
        int? version = layout switch { PushLayout.Oci => null, PushLayout.V3 => 3, _ => 2 };
        var served = await BuildCache.OpenServerWriterAsync(mirror.Store, version,
            options with { SpecLayoutVersion = layout == PushLayout.V2 ? 1 : 2 }, cancellationToken)
            .ConfigureAwait(false);
        return served ?? await OpenAsync(mirror.Writable, layout, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends a batch of writes: publishes <paramref name="key"/> (if any) where Spack looks for it, then updates the
    /// index incrementally (<see cref="IndexOperation.IndexLayoutAsync"/>). Entries must be complete
    /// (<see cref="IBuildCacheWriter.CompleteAsync"/>) before.
    /// </summary>
    public static async Task<IndexResult> FinishAsync(IBuildCacheWriter writer, PublishedKey? key, IndexCache? cache,
        CancellationToken cancellationToken = default)
    {
        await writer.FinishAsync(key is null ? [] : [key], cancellationToken).ConfigureAwait(false);
        var options = new IndexOptions(Cache: cache);
        return await IndexOperation.IndexLayoutAsync(writer.Layout, options, null, cancellationToken)
            .ConfigureAwait(false);
    }
}
