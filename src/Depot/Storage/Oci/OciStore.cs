using System.Runtime.CompilerServices;
using System.Text;

namespace Depot.Storage.Oci;

/// <summary>
/// An OCI registry repository behind the one storage seam. Keys map onto what a registry holds:
/// <list type="bullet">
/// <item><c>blobs/sha256/&lt;xx&gt;/&lt;hex&gt;</c> is the repository's blob of that digest (content addressed: a
/// write must carry exactly those bytes; registries cannot enumerate blobs, so listing never shows them);</item>
/// <item>a key that is a tag ending in <c>.spack</c> (Spack's images and <c>index.spack</c>) is that tag's
/// manifest;</item>
/// <item>any other key is a small artifact, as <c>oras push</c> makes: a manifest tagged with the key's reversible
/// encoding (<see cref="TagFor"/>), one layer holding the bytes, the key in its
/// <c>org.opencontainers.image.title</c>.</item>
/// </list>
/// Spack's own layout (one image per spec, <c>index.spack</c>) is not objects but images: <c>Layout/BuildCacheOci</c>
/// reads and writes it through <see cref="Registry"/>. A manifest PUT is atomic, so readers never see half an object;
/// registries have no conditional PUT, so conditional writes compare first (the interface's default).
/// </summary>
public sealed class OciStore : IObjectStore, IDisposable
{
    public const string ObjectTagPrefix = "depot-obj_";
    public const string ObjectArtifactType = "application/vnd.depot.object.v1";
    private const string TitleAnnotation = "org.opencontainers.image.title";

    public OciStore(OciReference reference, OciClientOptions? options = null) =>
        Registry = new OciRegistryClient(reference, options);

    public OciRegistryClient Registry { get; }

    public string Root => Registry.Reference.ToString();

    /// <summary>Registries have no conditional manifest PUT: a write compares the tag first, then replaces
    /// it.</summary>
    public bool ConditionalWritesAreAtomic => false;

    public string Describe(string key) =>
        BlobDigest(key) is { } digest ? $"{Root}@{digest}" : IsImageTag(key) ? $"{Root}:{key}" : $"{Root}/{key}";

    /// <summary>True for keys that are Spack image tags (<c>…​.spack</c>), stored as the manifest under that
    /// tag.</summary>
    public static bool IsImageTag(string key) =>
        key.EndsWith(".spack", StringComparison.Ordinal) && key.Length <= 128
            && System.Text.RegularExpressions.Regex.IsMatch(key, "^[A-Za-z0-9_][A-Za-z0-9_.-]*$");

    /// <summary>The digest a <c>blobs/sha256/xx/hex</c> key names, or null for any other key.</summary>
    public static string? BlobDigest(string key)
    {
        var parts = key.Split('/');
        return parts.Length == 4 && parts[0] == "blobs" && parts[1] == "sha256" && parts[3].Length == 64
            && parts[2] == parts[3][..2]
            && parts[3].All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f')
            ? "sha256:" + parts[3]
            : null;
    }

    public async IAsyncEnumerable<StoreObject> ListAsync(string prefix,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var tag in Registry.ListTagsAsync(cancellationToken).ConfigureAwait(false))
        {
            if ((IsImageTag(tag) ? tag : KeyFor(tag)) is { } key && key.StartsWith(prefix, StringComparison.Ordinal)
                && await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is { } info)
            {
                yield return info;
            }
        }
    }

    public async IAsyncEnumerable<string> ListKeysAsync(string prefix,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var tag in Registry.ListTagsAsync(cancellationToken).ConfigureAwait(false))
        {
            if ((IsImageTag(tag) ? tag : KeyFor(tag)) is { } key && key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return key;
            }
        }
    }

    public async Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Check(key, Root);
        if (BlobDigest(key) is { } digest)
        {
            return await Registry.HeadBlobAsync(digest, cancellationToken).ConfigureAwait(false) is { } size
                ? new StoreObject(key, size, null, digest) : null;
        }

        if (IsImageTag(key))
        {
            return await Registry.HeadManifestAsync(key, cancellationToken).ConfigureAwait(false) is { } head
                ? new StoreObject(key, head.Size, null, head.Digest) : null;
        }

        return await ObjectManifestAsync(key, cancellationToken).ConfigureAwait(false) is { } found
            ? new StoreObject(key, found.Manifest.Layers[0].Size, null, found.Digest)
            : null;
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Check(key, Root);
        if (BlobDigest(key) is { } digest)
        {
            return await Registry.OpenBlobAsync(digest, null, cancellationToken).ConfigureAwait(false);
        }

        if (IsImageTag(key))
        {
            var manifest = await Registry.GetManifestAsync(key, cancellationToken).ConfigureAwait(false)
                ?? throw new StoreObjectNotFoundException(Describe(key));
            return new MemoryStream(manifest.Bytes, writable: false);
        }

        var found = await ObjectManifestAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreObjectNotFoundException(Describe(key));
        var layer = found.Manifest.Layers[0];
        return await Registry.OpenBlobAsync(layer.Digest, layer.Size, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Blobs and artifacts are read with a ranged blob GET (no digest check: see
    /// <see cref="OciRegistryClient.OpenBlobRangeAsync"/>); an image manifest is small and read whole, then cut.
    /// </summary>
    public async Task<Stream> OpenReadRangeAsync(string key, long offset, long? length,
        CancellationToken cancellationToken = default)
    {
        StoreKeys.Check(key, Root);
        StoreRange.CheckArguments(offset, length);
        if (BlobDigest(key) is { } digest)
        {
            return await Translated(key, Registry.OpenBlobRangeAsync(digest, offset, length, null, cancellationToken))
                .ConfigureAwait(false);
        }

        if (IsImageTag(key))
        {
            var whole = await OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
            return await StoreRange.SliceAsync(whole, offset, length, Describe(key), cancellationToken)
                .ConfigureAwait(false);
        }

        var found = await ObjectManifestAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreObjectNotFoundException(Describe(key));
        var layer = found.Manifest.Layers[0];
        return await Translated(key,
            Registry.OpenBlobRangeAsync(layer.Digest, offset, length, layer.Size, cancellationToken))
            .ConfigureAwait(false);
    }

    // The registry client names the blob; the store's callers know the key.
    private async Task<Stream> Translated(string key, Task<Stream> read)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (StoreObjectNotFoundException)
        {
            throw new StoreObjectNotFoundException(Describe(key));
        }
        catch (RangeNotSatisfiableException e)
        {
            throw new RangeNotSatisfiableException(Describe(key), e.Offset, e.Size);
        }
    }

    public async Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        StoreKeys.Check(key, Root);
        if (IsImageTag(key))
        {
            using var image = new MemoryStream();
            await content.CopyToAsync(image, cancellationToken).ConfigureAwait(false);
            await Registry.PutManifestAsync(key, image.ToArray(), cancellationToken).ConfigureAwait(false);
            return;
        }

        await using var spooled = await Spool(content, cancellationToken).ConfigureAwait(false);
        if (BlobDigest(key) is { } blob)
        {
            // The key is the digest: the registry checks the bytes against it (DIGEST_INVALID), no need to hash here.
            var length = spooled.Length - spooled.Position;
            if (await Registry.HeadBlobAsync(blob, cancellationToken).ConfigureAwait(false) != length)
            {
                try
                {
                    await Registry.UploadBlobAsync(spooled, blob, length, null, cancellationToken)
                        .ConfigureAwait(false);
                }
                catch (OciRegistryException e) when (e.Codes.Contains("DIGEST_INVALID"))
                {
                    throw new DepotException($"{Describe(key)}: registry blobs are content addressed, and these bytes "
                        + $"are not {blob}");
                }
            }

            return;
        }

        var tag = TagFor(key);
        var (digest, size) = await HashAsync(spooled, cancellationToken).ConfigureAwait(false);

        if (await Registry.HeadBlobAsync(digest, cancellationToken).ConfigureAwait(false) != size)
        {
            await Registry.UploadBlobAsync(spooled, digest, size, null, cancellationToken).ConfigureAwait(false);
        }

        var config = await Registry.PutBlobIfMissingAsync("{}"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        var manifest = new OciImageManifest(OciMediaTypes.ImageManifest,
            new OciDescriptor(OciMediaTypes.ImageConfig, config, 2),
            [new OciDescriptor("application/octet-stream", digest, size,
                new Dictionary<string, string> { [TitleAnnotation] = key })],
            ArtifactType: ObjectArtifactType);
        await Registry.PutManifestAsync(tag, manifest.ToJsonBytes(), cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Check(key, Root);
        if (BlobDigest(key) is { } digest)
        {
            return await Registry.DeleteBlobAsync(digest, cancellationToken).ConfigureAwait(false);
        }

        var head = await Registry.HeadManifestAsync(IsImageTag(key) ? key : TagFor(key), cancellationToken)
            .ConfigureAwait(false);
        return head is not null
            && await Registry.DeleteManifestAsync(head.Value.Digest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The tag an object key is stored under: <see cref="ObjectTagPrefix"/> + the key with every character outside
    /// <c>[A-Za-z0-9-]</c> escaped as <c>_</c> + two hex digits of each UTF-8 byte, so tags decode back to keys and
    /// never end in Spack's <c>.spack</c>.
    /// </summary>
    /// <exception cref="DepotException">The key is too long for a tag (128 characters).</exception>
    public static string TagFor(string key)
    {
        var tag = new StringBuilder(ObjectTagPrefix);
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-')
            {
                tag.Append((char)b);
            }
            else
            {
                tag.Append('_').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return tag.Length <= 128 ? tag.ToString()
            : throw new DepotException(ErrorKind.Unsupported,
                $"key '{key}' is too long to be stored in an OCI registry (tags hold 128 characters)");
    }

    /// <summary>The key a tag encodes, or null for tags that are not Depot objects (Spack's images, say).</summary>
    public static string? KeyFor(string tag)
    {
        if (!tag.StartsWith(ObjectTagPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var bytes = new List<byte>();
        for (var i = ObjectTagPrefix.Length; i < tag.Length; i++)
        {
            if (tag[i] != '_')
            {
                bytes.Add((byte)tag[i]);
            }
            else if (i + 2 < tag.Length
                && byte.TryParse(tag.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                return null;
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private async Task<(OciImageManifest Manifest, string Digest)?> ObjectManifestAsync(string key,
        CancellationToken cancellationToken)
    {
        var found = await Registry.GetManifestAsync(TagFor(key), cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return null;
        }

        var manifest = OciImageManifest.Parse(found.Bytes, Describe(key));
        return manifest.Layers.Count == 1
            ? (manifest, found.Digest)
            : throw new InvalidContentException(Describe(key),
                $"tag {TagFor(key)} is not a Depot object (it has {manifest.Layers.Count} layers)");
    }

    // Uploads need the digest before the bytes go out: a seekable stream is hashed in place, anything else spooled.
    private static async Task<Stream> Spool(Stream content, CancellationToken cancellationToken)
    {
        if (content.CanSeek)
        {
            return new NonClosingStream(content);
        }

        var file = PrivateTemp.CreateFile("depot-oci");
        await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        file.Position = 0;
        return file;
    }

    private static async Task<(string Digest, long Size)> HashAsync(Stream stream, CancellationToken cancellationToken)
    {
        var start = stream.Position;
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        int n;
        while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            sha.AppendData(buffer, 0, n);
        }

        var size = stream.Position - start;
        stream.Position = start;
        return ("sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset()), size);
    }

    public void Dispose() => Registry.Dispose();

    /// <summary>Lets an upload read and rewind a caller's stream without closing it.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        private readonly long origin = inner.Position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => inner.Length - origin;

        public override long Position { get => inner.Position - origin; set => inner.Position = origin + value; }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count,
            CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => origin switch
        {
            SeekOrigin.Begin => Position = offset,
            SeekOrigin.Current => Position += offset,
            _ => Position = Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
