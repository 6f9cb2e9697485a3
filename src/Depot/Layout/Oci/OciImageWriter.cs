using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Depot.Storage.Oci;

namespace Depot.Layout.Oci;

/// <summary>
/// Writes Spack's OCI images in two steps: each tarball is uploaded as a layer blob as soon as it is made
/// (<see cref="WriteAsync"/>); once all are up, <see cref="CompleteAsync"/> writes each spec's config and manifest —
/// its link/run dependencies' layers first, its own last, as Spack does — and its signature. Dependencies written
/// earlier are taken from their images in the registry. The layers follow the spec file's own link/run edges, so
/// entries copied from another cache get the same images as pushed ones.
/// </summary>
public sealed class OciImageWriter(BuildCacheOci layout, EntryWriterOptions options) : IBuildCacheWriter
{
    private readonly ConcurrentDictionary<string, Lazy<Task<OciBaseImage>>> bases = new(StringComparer.Ordinal);
    private readonly EntrySigner? signer = EntrySigner.For(options.SigningKey);

    private sealed record Layer(OciDescriptor Blob, string DiffId);

    private readonly ConcurrentDictionary<string, Layer> layers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (SpecFile Spec, string Timestamp)> pending =
        new(StringComparer.Ordinal);

    private OciStore Store => layout.Oci;

    public IBuildCacheLayout Layout => layout;

    public bool Signs => signer is not null;

    public bool NeedsTarDigest => true;

    public bool CompletesLater => true;

    /// <summary>
    /// The spec's image with its config and its own tarball layer (the entry as a cache reader sees it), and its
    /// signature when this writer signs. An image that does not parse is absent.
    /// </summary>
    public async Task<bool> ExistsAsync(SpecNode spec, CancellationToken cancellationToken = default)
    {
        var tag = BuildCacheOci.TagFor(spec);
        var found = await Store.Registry.GetManifestAsync(tag, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return false;
        }

        OciImageManifest manifest;
        try
        {
            manifest = OciImageManifest.Parse(found.Bytes, Store.Describe(tag));
        }
        catch (InvalidContentException)
        {
            return false; // a broken image is replaced
        }

        if (manifest.Layers.Count == 0)
        {
            return false;
        }

        foreach (var blob in new[] { manifest.Config, manifest.Layers[^1] })
        {
            if (await Store.Registry.HeadBlobAsync(blob.Digest, cancellationToken).ConfigureAwait(false) != blob.Size)
            {
                return false;
            }
        }

        return !Signs || await OciSignatures.FindAsync(Store.Registry, found.Digest, cancellationToken)
            .ConfigureAwait(false) is not null;
    }

    /// <summary>
    /// Uploads the spec's tarball as a layer blob; its image is written by <see cref="CompleteAsync"/>. Without
    /// <see cref="StagedTarball.TarSha256"/> the staged content is read back to hash the tar inside.
    /// </summary>
    public async Task WriteAsync(SpecFile spec, StagedTarball tarball, CancellationToken cancellationToken = default)
    {
        var diffId = tarball.TarSha256
            ?? await TarDigestAsync(tarball, spec.Root.Name + "/" + spec.Root.Hash, cancellationToken)
                .ConfigureAwait(false);
        await tarball.Staged.CommitAsync(BuildCacheV3.BlobKey("sha256", tarball.Sha256), cancellationToken)
            .ConfigureAwait(false);
        var blob = new OciDescriptor(OciMediaTypes.Layer, "sha256:" + tarball.Sha256, tarball.Length);
        layers[spec.Root.Hash] = new Layer(blob, "sha256:" + diffId);
        pending[spec.Root.Hash] = (spec,
            DateTimeOffset.Now.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture));
    }

    // Images name each layer by the sha256 of the tar inside it too.
    private static async Task<string> TarDigestAsync(StagedTarball tarball, string spec,
        CancellationToken cancellationToken)
    {
        var content = tarball.Staged.Content;
        await content.FlushAsync(cancellationToken).ConfigureAwait(false);
        content.Position = 0;
        string digest;
        try
        {
            await using var gunzip = new GZipStream(content, CompressionMode.Decompress, leaveOpen: true);
            var hash = await SHA256.HashDataAsync(gunzip, cancellationToken).ConfigureAwait(false);
            digest = Convert.ToHexStringLower(hash);
        }
        catch (InvalidDataException e)
        {
            // The tarball came from another mirror: its checksum matched, but it is not gzip.
            throw new InvalidContentException($"the tarball of {spec}", "corrupt gzip data: " + e.Message);
        }

        content.Position = tarball.Length;
        return digest;
    }

    /// <summary>Images are never copied as they are: every entry is written with <see cref="WriteAsync"/>.</summary>
    public Task<long?> TryCopyAsync(IBuildCacheLayout from, SpecEntry entry, TarballRef tarball, Action<long>? progress,
        CancellationToken cancellationToken = default) => Task.FromResult<long?>(null);

    /// <summary>
    /// Writes the images of every tarball written; returns an error message per spec hash that failed.
    /// </summary>
    public Task<IReadOnlyDictionary<string, string>> CompleteAsync(int parallelism,
        CancellationToken cancellationToken = default) =>
        WriteImagesAsync(parallelism, cancellationToken);

    /// <summary>
    /// A signature artifact for the image (Spack's are never signed), the image itself untouched: its config
    /// clearsigned. False when this key's signature is there already.
    /// </summary>
    public async Task<bool> SignAsync(SpecEntry entry, bool force, CancellationToken cancellationToken = default)
    {
        var key = EntrySigner.Required(signer, layout);
        var image = await layout.ReadImageAsync(entry.Key, cancellationToken).ConfigureAwait(false);
        var existing = force
            ? null
            : await OciSignatures.FindAsync(Store.Registry, image.ManifestDigest, cancellationToken)
                .ConfigureAwait(false);
        if (existing is { } found)
        {
            if (key.HasSigned(found.Text, found.Location))
            {
                return false;
            }

            // Signed by another key, or damaged: replaced below.
        }

        // Check the entry is sound before vouching for it.
        await layout.ReadEntryAsync(entry, TrustPolicy.None(Store.Root), cancellationToken).ConfigureAwait(false);
        var signed = key.Sign(Encoding.UTF8.GetString(image.Config));
        var subject = new OciDescriptor(image.Manifest.MediaType, image.ManifestDigest, image.ManifestSize);
        await OciSignatures.PublishAsync(Store.Registry, subject, signed, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Publishes the keys as small artifacts under <c>keys/</c>.</summary>
    public async Task FinishAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default)
    {
        if (keys.Count > 0)
        {
            await layout.PublishKeysAsync(keys, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyDictionary<string, string>> WriteImagesAsync(int parallelism,
        CancellationToken cancellationToken)
    {
        var failures = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var batch = pending.Values.ToList();
        pending.Clear();
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = parallelism,
            CancellationToken = cancellationToken,
        };
        await Parallel.ForEachAsync(batch, parallel,
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
        var (manifest, config) = await AssembleAsync(spec.Root, closure, spec, timestamp, cancellationToken)
            .ConfigureAwait(false);
        var bytes = manifest.ToJsonBytes();
        var tag = BuildCacheOci.TagFor(spec.Root);
        var (digest, _) = await Store.Registry.PutManifestAsync(tag, bytes, cancellationToken).ConfigureAwait(false);
        if (signer is not null)
        {
            var signed = signer.Sign(Encoding.UTF8.GetString(config));
            var subject = new OciDescriptor(manifest.MediaType, digest, bytes.LongLength);
            await OciSignatures.PublishAsync(Store.Registry, subject, signed, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Spack's <c>--tag</c>: one more image, under <paramref name="tag"/>, holding <paramref name="roots"/> and their
    /// link/run dependencies as layers with their search paths — a runnable image of the whole set, not a cache entry
    /// (no spec in its config, a tag not ending in <c>.spack</c>).
    /// </summary>
    public async Task WriteTaggedImageAsync(string tag, IReadOnlyList<SpecNode> roots, Func<string, SpecNode?> find,
        CancellationToken cancellationToken)
    {
        CheckTag(tag);
        var closure = LinkRunClosure(roots, find);
        var (manifest, _) = await AssembleAsync(roots[0], closure, null, "", cancellationToken).ConfigureAwait(false);
        var bytes = (manifest with { Annotations = null }).ToJsonBytes();
        await Store.Registry.PutManifestAsync(tag, bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <exception cref="DepotException">Not a tag a registry takes, or one Spack would read as a cache
    /// entry.</exception>
    public static void CheckTag(string tag)
    {
        if (tag.EndsWith(BuildCacheOci.TagSuffix, StringComparison.Ordinal)
            || !System.Text.RegularExpressions.Regex.IsMatch(tag, "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))
        {
            throw new DepotException(ErrorKind.Usage,
                $"image tag '{tag}': not valid ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128, not ending in .spack)");
        }
    }

    // Layers (base image's, then the closure's, dependencies first), config (with the spec when it is a cache entry).
    private async Task<(OciImageManifest Manifest, byte[] Config)> AssembleAsync(SpecNode root, List<SpecNode> closure,
        SpecFile? spec, string timestamp, CancellationToken cancellationToken)
    {
        var imageLayers = new List<Layer>();
        foreach (var node in closure)
        {
            imageLayers.Add(layers.TryGetValue(node.Hash, out var pushed) ? pushed
                : await ExistingLayerAsync(root, node, cancellationToken).ConfigureAwait(false));
        }

        var architecture = OciImageConfig.Architecture(root.Target);
        var based = options.BaseImage is not { } baseImage
            ? null
            : await bases.GetOrAdd(architecture, a => new Lazy<Task<OciBaseImage>>(
                () => OciBaseImage.FetchAsync(baseImage, null, Store.Registry, a, CancellationToken.None))).Value
                .ConfigureAwait(false);
        var config = OciImageConfig.Write(root, spec, imageLayers.Select(l => l.DiffId).ToList(), SearchPaths(closure),
            (imageLayers[^1].Blob.Hex, imageLayers[^1].Blob.Size), timestamp, based?.Config);
        var configDigest = await Store.Registry.PutBlobIfMissingAsync(config, cancellationToken).ConfigureAwait(false);
        var docker = based?.DockerFormat == true;
        var layerType = docker ? OciMediaTypes.DockerLayer : OciMediaTypes.Layer;
        var manifest = new OciImageManifest(based?.Manifest.MediaType ?? OciMediaTypes.ImageManifest,
            new OciDescriptor(based?.Manifest.Config.MediaType ?? OciMediaTypes.ImageConfig, configDigest,
                config.LongLength),
            [.. based?.Manifest.Layers ?? [], .. imageLayers.Select(l => l.Blob with { MediaType = layerType })],
            docker ? null : new Dictionary<string, string>
            {
                ["org.opencontainers.image.description"] = Description(root),
            });
        return (manifest, config);
    }

    // A dependency not pushed in this run: its image's own layer and diff id.
    private async Task<Layer> ExistingLayerAsync(SpecNode dependent, SpecNode dependency,
        CancellationToken cancellationToken)
    {
        BuildCacheOci.SpecImage image;
        try
        {
            image = await layout.ReadImageAsync(BuildCacheOci.TagFor(dependency), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (StoreObjectNotFoundException)
        {
            throw new DepotException(ErrorKind.NotFound,
                $"{dependent.Name}/{dependent.Hash[..7]} needs {dependency.Name}/{dependency.Hash[..7]} as a layer, "
                + $"and {Store.Root} does not have it: push it too", new ErrorHint(HintAction.IncludeDependencies));
        }

        using var doc = JsonDocument.Parse(image.Config);
        var diffIds = doc.RootElement.GetProperty("rootfs").GetProperty("diff_ids");
        return new Layer(image.Tarball, diffIds[diffIds.GetArrayLength() - 1].GetString()!);
    }

    /// <summary>The roots and their non-external link/run dependencies, dependencies first, each root after its
    /// own.</summary>
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

            foreach (var edge in node.Dependencies.Where(e => (e.Types & (DepTypes.Link | DepTypes.Run)) != 0)
                .OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                var dep = find(edge.Hash) ?? throw new InvalidContentException(node.Name,
                    $"{node.Name}/{node.Hash[..7]} depends on {edge.Name}/{edge.Hash[..7]}, which its spec does not "
                    + "hold");
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
            ("lib/pkgconfig", "PKG_CONFIG_PATH"), ("lib64/pkgconfig", "PKG_CONFIG_PATH"),
                ("share/pkgconfig", "PKG_CONFIG_PATH"),
        };
        foreach (var node in Enumerable.Reverse(closure))
        {
            if (options.Prefixes?.Invoke(node) is not { } prefix)
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
