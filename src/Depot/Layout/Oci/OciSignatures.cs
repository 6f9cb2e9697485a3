using System.Text;
using Depot.Storage.Oci;

namespace Depot.Layout.Oci;

/// <summary>
/// Depot's signatures for Spack's OCI images, stored beside the image without touching it: an artifact manifest
/// (<see cref="ArtifactType"/>) whose one layer is the clearsigned image config — the spec file and the tarball's
/// checksum, exactly the bytes Spack reads — and whose <c>subject</c> is the image's manifest. Registries with the OCI
/// 1.1 referrers API index it by subject; elsewhere it is also tagged <c>sha256-&lt;hex&gt;.sig</c>, the tag schema
/// cosign uses. Spack never reads either (its tags end in <c>.spack</c>).
/// </summary>
public static class OciSignatures
{
    public const string ArtifactType = "application/vnd.depot.spec.signature.v1";
    public const string LayerMediaType = "application/pgp-signature";

    /// <summary>The fallback tag for the signature of the manifest with <paramref name="digest"/>.</summary>
    public static string TagFor(string digest) => digest.Replace(':', '-') + ".sig";

    /// <summary>Stores a signature for an image manifest; referrers where the registry offers them, the tag in any
    /// case.</summary>
    public static async Task PublishAsync(OciRegistryClient registry, OciDescriptor subject, string clearSigned,
        CancellationToken cancellationToken = default)
    {
        var bytes = Encoding.UTF8.GetBytes(clearSigned);
        var layer = await registry.PutBlobIfMissingAsync(bytes, cancellationToken).ConfigureAwait(false);
        var config = await registry.PutBlobIfMissingAsync("{}"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        var manifest = new OciImageManifest(OciMediaTypes.ImageManifest,
            new OciDescriptor(OciMediaTypes.Empty, config, 2),
            [new OciDescriptor(LayerMediaType, layer, bytes.LongLength)], ArtifactType: ArtifactType, Subject: subject);

        // Tagging also keeps the artifact from being garbage-collected on registries that ignore 'subject'.
        await registry.PutManifestAsync(TagFor(subject.Digest), manifest.ToJsonBytes(), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The clearsigned text for an image manifest and where it was found, or null when it has none.</summary>
    public static async Task<(string Text, string Location)?> FindAsync(OciRegistryClient registry,
        string manifestDigest, CancellationToken cancellationToken = default)
    {
        var candidates = new List<string>();
        if (await registry.ReferrersAsync(manifestDigest, ArtifactType, cancellationToken)
            .ConfigureAwait(false) is { } referrers)
        {
            candidates.AddRange(referrers.Select(r => r.Digest));
        }

        candidates.Add(TagFor(manifestDigest));
        foreach (var reference in candidates.Distinct())
        {
            var found = await registry.GetManifestAsync(reference, cancellationToken).ConfigureAwait(false);
            if (found is null)
            {
                continue;
            }

            var location = registry.Describe($"manifests/{reference}");
            var manifest = OciImageManifest.Parse(found.Bytes, location);
            if (manifest.ArtifactType != ArtifactType || manifest.Layers.Count != 1
                || manifest.Subject?.Digest != manifestDigest)
            {
                throw new InvalidContentException(location, $"is not a Depot signature for {manifestDigest}");
            }

            var text = await registry.ReadBlobAsync(manifest.Layers[0].Digest, manifest.Layers[0].Size, 1 << 24,
                cancellationToken).ConfigureAwait(false);
            return (Encoding.UTF8.GetString(text), location);
        }

        return null;
    }
}
