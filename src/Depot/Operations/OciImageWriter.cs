using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Depot.Layout;
using Depot.Specs;
using Depot.Storage;
using Depot.Storage.Oci;

namespace Depot.Operations;

/// <summary>
/// Writes Spack's OCI images for <see cref="PushEntryWriter"/> in two steps: each tarball is uploaded as a layer blob
/// as soon as it is made (<see cref="AddTarballAsync"/>); once all are up, <see cref="WriteImagesAsync"/> writes each
/// spec's config and manifest — its link/run dependencies' layers first, its own last, as Spack does — and its
/// signature. Dependencies pushed earlier are taken from their images in the registry. The layers follow the spec
/// file's own link/run edges, so entries copied from another cache get the same images as pushed ones.
/// </summary>
/// <param name="store">The registry.</param>
/// <param name="prefixes">Build and local prefix of a node (push), for the image's search paths; null when copying.</param>
/// <param name="key">Signs each image's config (null: unsigned).</param>
/// <param name="baseImage">The image to build on (<c>--base-image</c>), or null for none.</param>
internal sealed class OciImageWriter(OciStore store, Func<SpecNode, (string Build, string Local)?>? prefixes, Org.BouncyCastle.Bcpg.OpenPgp.PgpSecretKey? key,
    string? baseImage = null)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<OciBaseImage>>> bases = new(StringComparer.Ordinal);

    private readonly Org.BouncyCastle.Bcpg.OpenPgp.PgpPrivateKey? privateKey = key?.ExtractPrivateKey(Array.Empty<char>());
    private readonly Lock signing = new();

    private sealed record Layer(OciDescriptor Blob, string DiffId);

    private readonly ConcurrentDictionary<string, Layer> layers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (SpecFile Spec, string Timestamp)> pending = new(StringComparer.Ordinal);
    private readonly BuildCacheOci layout = new(store);

    /// <summary>True when the registry has the spec's image (and, when this push signs, its signature).</summary>
    public async Task<bool> ExistsAsync(SpecNode spec, CancellationToken cancellationToken)
    {
        var head = await store.Registry.HeadManifestAsync(BuildCacheOci.TagFor(spec), cancellationToken).ConfigureAwait(false);
        return head is not null
            && (key is null || await OciSignatures.FindAsync(store.Registry, head.Value.Digest, cancellationToken).ConfigureAwait(false) is not null);
    }

    /// <summary>Uploads a spec's tarball (staged, sha256 and size known; <paramref name="diffId"/>: sha256 of the tar inside).</summary>
    public async Task AddTarballAsync(SpecFile spec, IStagedObject staged, string checksum, long length, string diffId, CancellationToken cancellationToken)
    {
        await staged.CommitAsync(BuildCacheV3.BlobKey("sha256", checksum), cancellationToken).ConfigureAwait(false);
        layers[spec.Root.Hash] = new Layer(new OciDescriptor(OciMediaTypes.Layer, "sha256:" + checksum, length), "sha256:" + diffId);
        pending[spec.Root.Hash] = (spec, DateTimeOffset.Now.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture));
    }

    /// <summary>Writes the images of every tarball added; returns an error message per spec hash that failed.</summary>
    public async Task<IReadOnlyDictionary<string, string>> WriteImagesAsync(int parallelism, CancellationToken cancellationToken)
    {
        var failures = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(pending.Values, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (item, token) =>
            {
                try
                {
                    await WriteImageAsync(item.Spec, item.Timestamp, token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is DepotException or IOException or HttpRequestException)
                {
                    failures[item.Spec.Root.Hash] = e.Message;
                }
            }).ConfigureAwait(false);
        return failures;
    }

    private async Task WriteImageAsync(SpecFile spec, string timestamp, CancellationToken cancellationToken)
    {
        var closure = LinkRunClosure([spec.Root], spec.FindByHash);
        var (manifest, config) = await AssembleAsync(spec.Root, closure, spec, timestamp, cancellationToken).ConfigureAwait(false);
        var bytes = manifest.ToJsonBytes();
        var (digest, _) = await store.Registry.PutManifestAsync(BuildCacheOci.TagFor(spec.Root), bytes, cancellationToken).ConfigureAwait(false);
        if (key is not null)
        {
            string signed;
            lock (signing)
            {
                signed = Signing.ClearSigner.Sign(System.Text.Encoding.UTF8.GetString(config), key, privateKey!);
            }

            await OciSignatures.PublishAsync(store.Registry, new OciDescriptor(manifest.MediaType, digest, bytes.LongLength), signed, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Spack's <c>--tag</c>: one more image, under <paramref name="tag"/>, holding <paramref name="roots"/> and their
    /// link/run dependencies as layers with their search paths — a runnable image of the whole set, not a cache entry
    /// (no spec in its config, a tag not ending in <c>.spack</c>).
    /// </summary>
    public async Task WriteTaggedImageAsync(string tag, IReadOnlyList<SpecNode> roots, Func<string, SpecNode?> find, CancellationToken cancellationToken)
    {
        CheckTag(tag);
        var closure = LinkRunClosure(roots, find);
        var (manifest, _) = await AssembleAsync(roots[0], closure, null, "", cancellationToken).ConfigureAwait(false);
        await store.Registry.PutManifestAsync(tag, (manifest with { Annotations = null }).ToJsonBytes(), cancellationToken).ConfigureAwait(false);
    }

    /// <exception cref="DepotException">Not a tag a registry takes, or one Spack would read as a cache entry.</exception>
    public static void CheckTag(string tag)
    {
        if (tag.EndsWith(BuildCacheOci.TagSuffix, StringComparison.Ordinal) || !System.Text.RegularExpressions.Regex.IsMatch(tag, "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))
        {
            throw new DepotException(ErrorKind.Usage, $"image tag '{tag}': not valid ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128, not ending in .spack)");
        }
    }

    // Layers (base image's, then the closure's, dependencies first), config (with the spec when it is a cache entry).
    private async Task<(OciImageManifest Manifest, byte[] Config)> AssembleAsync(SpecNode root, List<SpecNode> closure, SpecFile? spec, string timestamp,
        CancellationToken cancellationToken)
    {
        var imageLayers = new List<Layer>();
        foreach (var node in closure)
        {
            imageLayers.Add(layers.TryGetValue(node.Hash, out var pushed) ? pushed : await ExistingLayerAsync(root, node, cancellationToken).ConfigureAwait(false));
        }

        var architecture = OciImageConfig.Architecture(root.Target);
        var based = baseImage is null ? null : await bases.GetOrAdd(architecture, a => new Lazy<Task<OciBaseImage>>(
            () => OciBaseImage.FetchAsync(baseImage, null, store.Registry, a, CancellationToken.None))).Value.ConfigureAwait(false);
        var config = OciImageConfig.Write(root, spec, imageLayers.Select(l => l.DiffId).ToList(), SearchPaths(closure),
            (imageLayers[^1].Blob.Hex, imageLayers[^1].Blob.Size), timestamp, based?.Config);
        var configDigest = await store.Registry.PutBlobIfMissingAsync(config, cancellationToken).ConfigureAwait(false);
        var docker = based?.DockerFormat == true;
        var layerType = docker ? OciMediaTypes.DockerLayer : OciMediaTypes.Layer;
        var manifest = new OciImageManifest(based?.Manifest.MediaType ?? OciMediaTypes.ImageManifest,
            new OciDescriptor(based?.Manifest.Config.MediaType ?? OciMediaTypes.ImageConfig, configDigest, config.LongLength),
            [.. based?.Manifest.Layers ?? [], .. imageLayers.Select(l => l.Blob with { MediaType = layerType })],
            docker ? null : new Dictionary<string, string> { ["org.opencontainers.image.description"] = Description(root) });
        return (manifest, config);
    }

    // A dependency not pushed in this run: its image's own layer and diff id.
    private async Task<Layer> ExistingLayerAsync(SpecNode dependent, SpecNode dependency, CancellationToken cancellationToken)
    {
        BuildCacheOci.SpecImage image;
        try
        {
            image = await layout.ReadImageAsync(BuildCacheOci.TagFor(dependency), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreObjectNotFoundException)
        {
            throw new DepotException(ErrorKind.NotFound, $"{dependent.Name}/{dependent.Hash[..7]} needs {dependency.Name}/{dependency.Hash[..7]} as a layer, "
                + $"and {store.Root} does not have it: push it too", new ErrorHint(HintAction.IncludeDependencies));
        }

        using var doc = JsonDocument.Parse(image.Config);
        var diffIds = doc.RootElement.GetProperty("rootfs").GetProperty("diff_ids");
        return new Layer(image.Tarball, diffIds[diffIds.GetArrayLength() - 1].GetString()!);
    }

    /// <summary>The roots and their non-external link/run dependencies, dependencies first, each root after its own.</summary>
    private static List<SpecNode> LinkRunClosure(IReadOnlyList<SpecNode> roots, Func<string, SpecNode?> find)
    {
        var order = new List<SpecNode>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Visit(SpecNode node)
        {
            if (!seen.Add(node.Hash))
            {
                return;
            }

            foreach (var edge in node.Dependencies.Where(e => (e.Types & (DepTypes.Link | DepTypes.Run)) != 0).OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                var dep = find(edge.Hash) ?? throw new InvalidContentException(node.Name,
                    $"{node.Name}/{node.Hash[..7]} depends on {edge.Name}/{edge.Hash[..7]}, which its spec does not hold");
                if (!dep.IsExternal)
                {
                    Visit(dep);
                }
            }

            order.Add(node);
        }

        foreach (var root in roots)
        {
            Visit(root);
        }

        return order;
    }

    // Spack's default prefix inspections over the spec's link/run closure (spec first), at the build prefixes. A copied
    // entry's prefixes are unknown: its image gets only the default PATH.
    private List<(string Variable, string Value)> SearchPaths(List<SpecNode> closure)
    {
        var paths = new Dictionary<string, List<string>>(StringComparer.Ordinal)
        {
            ["PATH"] = [],
            ["ACLOCAL_PATH"] = [],
            ["CMAKE_PREFIX_PATH"] = [],
            ["MANPATH"] = [],
            ["PKG_CONFIG_PATH"] = [],
        };
        var inspections = new (string Dir, string Variable)[]
        {
            ("bin", "PATH"), ("share/aclocal", "ACLOCAL_PATH"), ("man", "MANPATH"), ("share/man", "MANPATH"),
            ("lib/pkgconfig", "PKG_CONFIG_PATH"), ("lib64/pkgconfig", "PKG_CONFIG_PATH"), ("share/pkgconfig", "PKG_CONFIG_PATH"),
        };
        foreach (var node in Enumerable.Reverse(closure))
        {
            if (prefixes?.Invoke(node) is not { } prefix)
            {
                continue;
            }

            foreach (var (dir, variable) in inspections)
            {
                if (Directory.Exists(Path.Combine(prefix.Local, dir)))
                {
                    paths[variable].Add(prefix.Build + "/" + dir);
                }
            }

            paths["CMAKE_PREFIX_PATH"].Add(prefix.Build);
        }

        return paths.Where(p => p.Value.Count > 0).Select(p => (p.Key, string.Join(':', p.Value.Distinct()))).ToList();
    }

    /// <summary><c>spec.format()</c>: <c>name@=version</c>, flags and variants, then platform, os and target.</summary>
    private static string Description(SpecNode node)
    {
        var text = SpecFormatter.WithVariants(node, newStyle: true);
        var head = SpecFormatter.Short(node);
        if (node.Version.Length > 0 && text.StartsWith(head, StringComparison.Ordinal))
        {
            text = $"{node.Name}@={node.Version}{text[head.Length..]}";
        }

        return $"{text} platform={node.Platform} os={node.PlatformOs} target={node.Target}";
    }
}
