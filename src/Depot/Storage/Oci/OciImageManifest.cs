using System.Buffers;
using System.Text.Json;
using Depot.Formats;
using Depot.Specs;

namespace Depot.Storage.Oci;

/// <summary>Media types of the OCI image spec and the Docker v2 formats it reads.</summary>
public static class OciMediaTypes
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";
    public const string ImageConfig = "application/vnd.oci.image.config.v1+json";
    public const string Layer = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string Empty = "application/vnd.oci.empty.v1+json";
}

/// <summary>A content descriptor: what a manifest says about a blob or another manifest.</summary>
public sealed record OciDescriptor(string MediaType, string Digest, long Size,
    IReadOnlyDictionary<string, string>? Annotations = null, string? ArtifactType = null, string? Architecture = null)
{
    /// <summary>The hex of a sha256 digest.</summary>
    public string Hex =>
        Digest.StartsWith("sha256:", StringComparison.Ordinal) ? Digest[7..]
            : throw new InvalidContentException(Digest, "not a sha256 digest");
}

/// <summary>
/// An image manifest: config, layers, annotations, and the OCI 1.1 <c>artifactType</c>/<c>subject</c>. Written as
/// Spack writes it: compact JSON, keys in the order <c>mediaType, schemaVersion, config, layers, annotations</c>
/// (the 1.1 fields, when set, after them).
/// </summary>
public sealed record OciImageManifest(string MediaType, OciDescriptor Config, IReadOnlyList<OciDescriptor> Layers,
    IReadOnlyDictionary<string, string>? Annotations = null, string? ArtifactType = null, OciDescriptor? Subject = null)
{
    public byte[] ToJsonBytes()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new PythonJsonWriter(buffer);
        w.StartObject();
        w.WriteString("mediaType", MediaType);
        w.WriteNumber("schemaVersion", 2);
        if (ArtifactType is not null)
        {
            w.WriteString("artifactType", ArtifactType);
        }

        w.WritePropertyName("config");
        WriteDescriptor(w, Config);
        w.WritePropertyName("layers");
        w.StartArray();
        foreach (var layer in Layers)
        {
            WriteDescriptor(w, layer);
        }

        w.EndArray();
        if (Subject is not null)
        {
            w.WritePropertyName("subject");
            WriteDescriptor(w, Subject);
        }

        if (Annotations is { Count: > 0 })
        {
            w.WritePropertyName("annotations");
            WriteMap(w, Annotations);
        }

        w.EndObject();
        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="InvalidContentException">Not an image manifest (an index is reported as such).</exception>
    public static OciImageManifest Parse(byte[] bytes, string location)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            var mediaType = root.TryGetProperty("mediaType", out var m) ? m.GetString() ?? ""
                : OciMediaTypes.ImageManifest;
            if (mediaType is OciMediaTypes.ImageIndex or OciMediaTypes.DockerManifestList
                || root.TryGetProperty("manifests", out _))
            {
                throw new InvalidContentException(location,
                    "is an image index (several platforms), not an image manifest");
            }

            if (!root.TryGetProperty("config", out var config) || !root.TryGetProperty("layers", out var layers)
                || layers.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidContentException(location, "image manifest without 'config' and 'layers'");
            }

            return new OciImageManifest(mediaType, Descriptor(config, location),
                layers.EnumerateArray().Select(l => Descriptor(l, location)).ToList(),
                root.TryGetProperty("annotations", out var a) ? Map(a) : null,
                root.TryGetProperty("artifactType", out var t) ? t.GetString() : null,
                root.TryGetProperty("subject", out var s) ? Descriptor(s, location) : null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a value of the wrong JSON type, or a string that is not valid UTF-8.
            throw new InvalidContentException(location, "malformed manifest JSON: " + e.Message);
        }
    }

    /// <summary>The <c>manifests</c> of an image index.</summary>
    public static IReadOnlyList<OciDescriptor> ParseIndex(byte[] bytes, string location)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            return doc.RootElement.TryGetProperty("manifests", out var manifests)
                && manifests.ValueKind == JsonValueKind.Array
                ? manifests.EnumerateArray().Select(d => Descriptor(d, location)).ToList()
                : throw new InvalidContentException(location, "image index without 'manifests'");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidContentException(location, "malformed image index JSON: " + e.Message);
        }
    }

    internal static void WriteDescriptor(PythonJsonWriter w, OciDescriptor d)
    {
        w.StartObject();
        w.WriteString("mediaType", d.MediaType);
        if (d.ArtifactType is not null)
        {
            w.WriteString("artifactType", d.ArtifactType);
        }

        w.WriteString("digest", d.Digest);
        w.WriteNumber("size", d.Size);
        if (d.Annotations is { Count: > 0 })
        {
            w.WritePropertyName("annotations");
            WriteMap(w, d.Annotations);
        }

        w.EndObject();
    }

    private static void WriteMap(PythonJsonWriter w, IReadOnlyDictionary<string, string> map)
    {
        w.StartObject();
        foreach (var (key, value) in map)
        {
            w.WriteString(key, value);
        }

        w.EndObject();
    }

    private static OciDescriptor Descriptor(JsonElement e, string location)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("digest", out var digest)
            || digest.GetString() is not { } d
            || !e.TryGetProperty("size", out var size) || !size.TryGetInt64(out var length) || length < 0)
        {
            throw new InvalidContentException(location, "descriptor without a digest and size");
        }

        if (!System.Text.RegularExpressions.Regex.IsMatch(d, "^sha256:[0-9a-f]{64}$"))
        {
            throw new InvalidContentException(location, $"unsupported digest '{d}' (sha256 only)");
        }

        string? architecture = null;
        if (e.TryGetProperty("platform", out var platform) && platform.TryGetProperty("architecture", out var arch))
        {
            architecture = arch.GetString();
        }

        return new OciDescriptor(e.TryGetProperty("mediaType", out var m) ? m.GetString() ?? "" : "", d, length,
            e.TryGetProperty("annotations", out var a) ? Map(a) : null,
            e.TryGetProperty("artifactType", out var t) ? t.GetString() : null, architecture);
    }

    private static Dictionary<string, string>? Map(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object
            ? e.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String)
                .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal)
            : null;
}
