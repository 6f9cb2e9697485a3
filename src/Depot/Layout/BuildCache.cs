using System.Text.RegularExpressions;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>Finds which build cache layouts a mirror holds.</summary>
public static partial class BuildCache
{
    /// <summary>
    /// Returns the layouts present at the store's root, newest first (a mirror may hold both v3 and v2). Cheap: it
    /// stops at the first object of each layout.
    /// </summary>
    /// <exception cref="DepotException">No build cache at the root, or only a layout this Depot does not know.</exception>
    public static async Task<IReadOnlyList<IBuildCacheLayout>> DetectAsync(IObjectStore store, CancellationToken cancellationToken = default)
    {
        if (store is Storage.Oci.OciStore oci)
        {
            // A registry holds Spack's OCI layout; an empty repository is a cache with no entries yet.
            return [new BuildCacheOci(oci)];
        }

        var layouts = new List<IBuildCacheLayout>();
        if (await store.ExistsAsync(BuildCacheV3.LayoutKey, cancellationToken).ConfigureAwait(false)
            || await AnyAsync(store, "v3/manifests/", cancellationToken).ConfigureAwait(false))
        {
            layouts.Add(new BuildCacheV3(store));
        }

        if (await AnyAsync(store, BuildCacheV2.Prefix, cancellationToken).ConfigureAwait(false))
        {
            layouts.Add(new BuildCacheV2(store));
        }

        if (layouts.Count > 0)
        {
            return layouts;
        }

        await foreach (var obj in store.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            if (LayoutFolder().Match(obj.Key) is { Success: true } m)
            {
                throw new DepotException(ErrorKind.Unsupported, $"{store.Root}: build cache layout v{m.Groups[1].Value} is not supported (Depot reads v3 and v2)");
            }
        }

        throw new NoBuildCacheException(store.Root);
    }

    /// <summary>The layouts present, or a fresh layout of <paramref name="version"/> for an empty mirror.</summary>
    public static async Task<IBuildCacheLayout> OpenForWriteAsync(IObjectStore store, int? version, CancellationToken cancellationToken = default)
    {
        if (store is Storage.Oci.OciStore oci)
        {
            return new BuildCacheOci(oci);
        }

        if (version is 2)
        {
            return new BuildCacheV2(store);
        }

        if (version is 3)
        {
            return new BuildCacheV3(store);
        }

        try
        {
            return (await DetectAsync(store, cancellationToken).ConfigureAwait(false))[0];
        }
        catch (DepotException)
        {
            return new BuildCacheV3(store);
        }
    }

    /// <summary>True for registries: they hold Spack's OCI layout and only that.</summary>
    public static bool HoldsOciLayout(IObjectStore store) => store is Storage.Oci.OciStore;

    /// <summary>The layout an entry of <paramref name="version"/> was listed from (a registry has only its own).</summary>
    public static IBuildCacheLayout ForVersion(IObjectStore store, int version) =>
        store is Storage.Oci.OciStore oci ? new BuildCacheOci(oci) : version == 3 ? new BuildCacheV3(store) : new BuildCacheV2(store);

    private static async Task<bool> AnyAsync(IObjectStore store, string prefix, CancellationToken cancellationToken)
    {
        await foreach (var _ in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }

    [GeneratedRegex(@"^v([0-9]+)/")]
    private static partial Regex LayoutFolder();
}

/// <summary>The mirror holds no build cache yet (a new mirror, or a wrong path).</summary>
public sealed class NoBuildCacheException(string root)
    : DepotException(ErrorKind.NotFound, $"{root}: no build cache here (neither v3/ nor build_cache/ found)");
