using System.Text.RegularExpressions;
using Depot.Layout;
using Depot.Layout.Oci;
using Depot.Storage;

namespace Depot.Layout.Detection;

/// <summary>
/// The one place that knows every layout (so the layouts need not know each other): finds which build cache layouts
/// a mirror holds, and which layout an entry is read or written with. Each file layout says whether it is present
/// (<see cref="BuildCacheV3.IsPresentAsync"/>, <see cref="BuildCacheV2.IsPresentAsync"/>); a registry holds Spack's OCI
/// layout and only that, which <see cref="RegistryLayout"/> alone knows.
/// </summary>
public static partial class BuildCache
{
    /// <summary>
    /// Returns the layouts present at the store's root, newest first (a mirror may hold both v3 and v2). Cheap: it
    /// stops at the first object of each layout.
    /// </summary>
    /// <exception cref="DepotException">No build cache at the root, or only a layout this Depot does not
    /// know.</exception>
    public static async Task<IReadOnlyList<IBuildCacheLayout>> DetectAsync(IStoreReader store,
        CancellationToken cancellationToken = default)
    {
        if (RegistryLayout(store) is { } oci)
        {
            // An empty repository is a cache with no entries yet; a repository the registry does not know is none.
            if (store is Storage.Oci.OciStore registry
                && !await registry.Registry.RepositoryExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new NoBuildCacheException(store.Root, $"{store.Root}: the registry has no repository "
                    + $"'{registry.Registry.Reference.Repository}' (nothing was ever pushed there): check its name");
            }

            return [oci];
        }

        var layouts = new List<IBuildCacheLayout>();
        if (await BuildCacheV3.IsPresentAsync(store, cancellationToken).ConfigureAwait(false))
        {
            layouts.Add(new BuildCacheV3(store));
        }

        if (await BuildCacheV2.IsPresentAsync(store, cancellationToken).ConfigureAwait(false))
        {
            layouts.Add(new BuildCacheV2(store));
        }

        if (layouts.Count > 0)
        {
            return layouts;
        }

        var listed = (store as IStoreLister)?.ListAsync("", cancellationToken) ?? AsyncEnumerable.Empty<StoreObject>();
        await foreach (var obj in listed.ConfigureAwait(false))
        {
            if (LayoutFolder().Match(obj.Key) is { Success: true } m)
            {
                // v3's folder with no layout file and no manifest yet: another writer's first push is under way (its
                // blobs go up before the manifest and layout.json); write beside it rather than refuse.
                if (m.Groups[1].Value == "3")
                {
                    return [new BuildCacheV3(store)];
                }

                throw new DepotException(ErrorKind.Unsupported,
                    $"{store.Root}: build cache layout v{m.Groups[1].Value} is not supported (Depot reads v3 and v2)");
            }
        }

        throw new NoBuildCacheException(store.Root);
    }

    /// <summary>
    /// The layout to write: a registry's OCI layout; else layout <paramref name="version"/> (3 or 2); else the newest
    /// layout present, or v3 for a mirror with no build cache yet.
    /// </summary>
    /// <exception cref="DepotException">
    /// Detection failed for another reason than an empty mirror (the store refused, or it holds an unsupported layout).
    /// </exception>
    public static async Task<IBuildCacheLayout> OpenForWriteAsync(IObjectStore store, int? version,
        CancellationToken cancellationToken = default)
    {
        if (RegistryLayout(store) is { } oci)
        {
            return oci;
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
        catch (NoBuildCacheException)
        {
            return new BuildCacheV3(store); // a new mirror gets the current layout
        }
    }

    /// <summary>
    /// The upload API when <paramref name="store"/> is a cache served by <c>depot serve</c> (asked once per store),
    /// else null: any other store, or a web server that is not a Depot server.
    /// </summary>
    /// <exception cref="DepotException">The server refused the token, or cannot be reached.</exception>
    public static async Task<DepotServerApi?> DepotServerAsync(IStoreReader store,
        CancellationToken cancellationToken = default) =>
        store is HttpStore http ? await http.GetDepotServerAsync(cancellationToken).ConfigureAwait(false) : null;

    /// <summary>
    /// The writer of a cache served by <c>depot serve</c>: in the layout the server says its cache has, which
    /// <paramref name="version"/> (when given) must be; null when <paramref name="store"/> is not such a cache.
    /// </summary>
    /// <exception cref="DepotException">
    /// Another layout was asked for, the server refused the token, or the cache wants signed entries and there is no
    /// signing key.
    /// </exception>
    public static async Task<IBuildCacheWriter?> OpenServerWriterAsync(IStoreReader store, int? version,
        EntryWriterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (await DepotServerAsync(store, cancellationToken).ConfigureAwait(false) is not { } server)
        {
            return null;
        }

        var layout = server.Info.Layout;
        if (layout is not (2 or 3) || version is { } asked && asked != layout)
        {
            throw new DepotException(ErrorKind.Unsupported, layout is 2 or 3
                ? $"{store.Root}: the server keeps this cache in layout v{layout}, not v{version}"
                : $"{store.Root}: the server keeps this cache in layout v{layout}, which this Depot does not write");
        }

        return new DepotServerWriter(ForVersion(store, layout), server, options);
    }

    /// <summary>True for registries: they hold Spack's OCI layout and only that.</summary>
    public static bool HoldsOciLayout(IStoreReader store) => RegistryLayout(store) is not null;

    /// <summary>The layout an entry of <paramref name="version"/> was listed from (a registry has only its
    /// own).</summary>
    public static IBuildCacheLayout ForVersion(IStoreReader store, int version) =>
        RegistryLayout(store) ?? (version == 3 ? new BuildCacheV3(store) : new BuildCacheV2(store));

    /// <summary>The OCI layout when <paramref name="store"/> is a registry (which holds no other), else null.</summary>
    public static IBuildCacheLayout? RegistryLayout(IStoreReader store) =>
        store is Storage.Oci.OciStore oci ? new BuildCacheOci(oci) : null;

    [GeneratedRegex(@"^v([0-9]+)/")]
    private static partial Regex LayoutFolder();
}
