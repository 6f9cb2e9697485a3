using Depot.Storage;

namespace Depot.Layout;

/// <summary>Cheap questions to a store about what it holds, asked when detecting layouts.</summary>
internal static class StoreProbe
{
    private static readonly string[] IndexFiles =
    [
        BuildCacheV3.IndexManifestKey, BuildCacheV3.KeyIndexManifestKey,
        BuildCacheV2.IndexJsonKey, BuildCacheV2.IndexHashKey, BuildCacheV2.KeyIndexKey,
    ];


    /// <summary>True when <paramref name="store"/> lists at least one object under <paramref name="prefix"/>.</summary>
    public static async Task<bool> AnyAsync(IStoreReader store, string prefix, CancellationToken cancellationToken)
    {
        if (store is not IStoreLister lister)
        {
            // A store that cannot list (HTTP) shows a layout by its index files, where Spack looks over HTTP.
            foreach (var key in IndexFiles.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
            {
                if (await store.ExistsAsync(key, cancellationToken).ConfigureAwait(false))
                {
                    return true;
                }
            }

            return false;
        }

        await foreach (var _ in lister.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }
}
