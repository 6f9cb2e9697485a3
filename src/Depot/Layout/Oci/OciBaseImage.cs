using System.Text.Json;
using Depot.Storage.Oci;

namespace Depot.Layout.Oci;

/// <summary>
/// The image pushed images are built on (<c>depot push --base-image</c>, as Spack's): its manifest and config for one
/// architecture, its layers copied into the target repository first (mounted when both are in one registry), so the
/// spec images run as containers with the base's userland below the packages.
/// </summary>
internal sealed record OciBaseImage(OciImageManifest Manifest, JsonElement Config)
{
    /// <summary>Docker-format bases keep Docker media types throughout (Singularity/Apptainer refuse a mix).</summary>
    public bool DockerFormat => Manifest.MediaType == OciMediaTypes.DockerManifest;

    /// <summary>
    /// Reads <paramref name="image"/> (an <c>oci://</c>/<c>oci+http://</c> URL or a Docker reference, with <c>:tag</c>
    /// or <c>@digest</c>), picks <paramref name="architecture"/> from a multi-platform index, and copies its layers
    /// into
    /// <paramref name="target"/> unless they are there.
    /// </summary>
    /// <exception cref="DepotException">The image, or a platform of it for this architecture, is not found.</exception>
    public static async Task<OciBaseImage> FetchAsync(string image, OciClientOptions? options, OciRegistryClient target,
        string architecture, CancellationToken cancellationToken)
    {
        var (repository, reference) = OciReference.ParseImage(image);
        using var source = new OciRegistryClient(repository, options);
        var found = await source.GetManifestAsync(reference, cancellationToken).ConfigureAwait(false)
            ?? throw new DepotException(ErrorKind.NotFound, $"base image {image}: not found in {repository}");
        if (found.MediaType is OciMediaTypes.ImageIndex or OciMediaTypes.DockerManifestList)
        {
            var platform = OciImageManifest.ParseIndex(found.Bytes, image)
                .FirstOrDefault(d => d.Architecture == architecture)
                ?? throw new DepotException(ErrorKind.NotFound,
                    $"base image {image} has no linux/{architecture} image");
            found = await source.GetManifestAsync(platform.Digest, cancellationToken).ConfigureAwait(false)
                ?? throw new DepotException(ErrorKind.NotFound,
                    $"base image {image}: its {architecture} manifest {platform.Digest} is missing");
        }

        var manifest = OciImageManifest.Parse(found.Bytes, image);
        var configBytes = await source.ReadBlobAsync(manifest.Config.Digest, manifest.Config.Size, 16 << 20,
            cancellationToken).ConfigureAwait(false);
        JsonElement config;
        try
        {
            using var doc = JsonDocument.Parse(configBytes);
            config = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(image, "base image config is not JSON: " + e.Message);
        }

        var sameRegistry = repository.Registry == target.Reference.Registry
            && repository.Scheme == target.Reference.Scheme;
        foreach (var layer in manifest.Layers)
        {
            if (await target.HeadBlobAsync(layer.Digest, cancellationToken).ConfigureAwait(false) is not null
                || (sameRegistry
                    && await target.TryMountBlobAsync(layer.Digest, repository.Repository, cancellationToken)
                .ConfigureAwait(false)))
            {
                continue;
            }

            // From another registry: through a local file, so an upload that is challenged can be sent again.
            await using var file = Storage.PrivateTemp.CreateFile("depot-base");
            await using (var blob = await source.OpenBlobAsync(layer.Digest, layer.Size, cancellationToken)
                .ConfigureAwait(false))
            {
                await blob.CopyToAsync(file, 1 << 20, cancellationToken).ConfigureAwait(false);
            }

            file.Position = 0;
            await target.UploadBlobAsync(file, layer.Digest, layer.Size, null, cancellationToken).ConfigureAwait(false);
        }

        return new OciBaseImage(manifest, config);
    }
}
