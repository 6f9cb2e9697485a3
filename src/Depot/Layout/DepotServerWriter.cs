using Depot.Specs;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>
/// Writes entries to a cache served by <c>depot serve</c>, through its upload API rather than as objects: the blobs
/// the cache lacks are uploaded (sha256-named, resumed after a broken connection), then the entry's metadata (a v3
/// manifest, a v2 spec file) is committed; the server checks it, writes it last and updates the index itself, so a
/// writer here never writes an index or publishes keys. Entries are signed only when the cache wants its clients to
/// sign (<see cref="DepotServerInfo.Signing"/> <c>client</c>); otherwise the server signs or takes them unsigned.
/// </summary>
public sealed class DepotServerWriter : IBuildCacheWriter
{
    private readonly DepotServerApi server;
    private readonly EntrySigner? signer;
    private readonly int specLayoutVersion;

    /// <summary>
    /// A writer for <paramref name="layout"/> (v3 or v2, read through the server's store) committing through
    /// <paramref name="server"/>.
    /// </summary>
    /// <exception cref="DepotException">
    /// The token may only read, or the cache takes only entries signed by its clients and <paramref name="options"/>
    /// has no signing key.
    /// </exception>
    public DepotServerWriter(IBuildCacheLayout layout, DepotServerApi server, EntryWriterOptions options)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(options);
        Layout = layout;
        this.server = server;
        specLayoutVersion = options.SpecLayoutVersion;
        server.RequirePush();
        var clientSigns = server.Info.Signing == "client";
        if (clientSigns && options.SigningKey is null && !server.Info.AllowUnsigned)
        {
            throw new DepotException(ErrorKind.Trust, $"{server.Root}: this cache takes only entries signed by a key "
                + "it trusts, and no signing key was chosen", new ErrorHint(HintAction.CreateSigningKey));
        }

        signer = clientSigns ? EntrySigner.For(options.SigningKey) : null;
    }

    public IBuildCacheLayout Layout { get; }

    public bool Signs => signer is not null;

    public bool NeedsTarDigest => false;

    public bool CompletesLater => false;

    public bool ServerUpdatesIndex => true;

    public Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(server.CreateStaged());

    /// <summary>The entry's metadata is there (signed, when this writer signs): the server commits it last.</summary>
    public async Task<bool> ExistsAsync(SpecNode spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (Layout.Version == 2)
        {
            return await Layout.Store.ExistsAsync(BuildCacheV2.SpecFileKey(spec, signed: true), cancellationToken)
                    .ConfigureAwait(false)
                || !Signs && await Layout.Store.ExistsAsync(BuildCacheV2.SpecFileKey(spec, signed: false),
                    cancellationToken).ConfigureAwait(false);
        }

        var key = BuildCacheV3.SpecManifestKey(spec);
        var bytes = await Layout.Store.TryReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false);
        try
        {
            return bytes is not null
                && (!Signs || BuildCacheManifest.Parse(bytes, Layout.Store.Describe(key)).IsSigned);
        }
        catch (InvalidContentException)
        {
            return false; // a broken entry is replaced
        }
    }

    public async Task WriteAsync(SpecFile spec, StagedTarball tarball, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(tarball);
        if (Layout.Version == 2)
        {
            await UploadMissingAsync([(tarball.Sha256, tarball.Staged.Content, tarball.Length)], cancellationToken)
                .ConfigureAwait(false);
            var text = BuildCacheV2Writer.SpecFileText(spec, tarball.Sha256, specLayoutVersion);
            await server.PutManifestAsync(BuildCacheV2.SpecFileKey(spec.Root, Signs), signer?.Sign(text) ?? text,
                cancellationToken).ConfigureAwait(false);
            return;
        }

        var (gzipped, mediaType) = BuildCacheV3Writer.SpecBlob(spec);
        var specSha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(gzipped));
        using var specContent = new MemoryStream(gzipped, writable: false);
        await UploadMissingAsync([(tarball.Sha256, tarball.Staged.Content, tarball.Length),
            (specSha, specContent, gzipped.Length)], cancellationToken).ConfigureAwait(false);
        var manifest = new BuildCacheManifest([
            new BlobRecord(tarball.Length, MediaTypes.Tarball, "gzip", "sha256", tarball.Sha256),
            new BlobRecord(gzipped.Length, mediaType, "gzip", "sha256", specSha),
        ]).ToJsonBytes();
        await server.PutManifestAsync(BuildCacheV3.SpecManifestKey(spec.Root), signer?.Sign(manifest) ?? manifest,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// From a mirror of the same layout: the objects the cache lacks (each checked while staged locally, so an upload
    /// can resume), then the metadata's own bytes, its signature kept (the server checks it under its trust).
    /// </summary>
    public async Task<long?> TryCopyAsync(IBuildCacheLayout from, SpecEntry entry, TarballRef tarball,
        Action<long>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tarball);
        if (from.Version != Layout.Version || from.Version is not (2 or 3))
        {
            return null;
        }

        var metadata = await from.Store.ReadAllBytesAsync(entry.Key, 16 << 20, cancellationToken).ConfigureAwait(false);
        var objects = new List<TarballRef> { tarball };
        if (from.Version == 3)
        {
            objects.AddRange(BuildCacheManifest.Parse(metadata, from.Store.Describe(entry.Key)).Records
                .Where(r => r.BlobKey != tarball.Key)
                .Select(r => new TarballRef(r.BlobKey, r.Checksum, r.ContentLength)));
        }

        var missing = await server.MissingAsync(objects.Select(o => o.Sha256), cancellationToken)
            .ConfigureAwait(false);
        foreach (var blob in objects.Where(o => missing.Contains(o.Sha256)))
        {
            await using var staged = server.CreateStaged();
            var (checksum, written) = await CheckedCopy.StageAsync(from.Store, blob, staged,
                blob == tarball ? progress : null, cancellationToken).ConfigureAwait(false);
            staged.Content.Position = 0;
            await server.UploadBlobAsync(checksum, staged.Content, written, cancellationToken).ConfigureAwait(false);
        }

        await server.PutManifestAsync(entry.Key, metadata, cancellationToken).ConfigureAwait(false);
        return tarball.Length ?? 0;
    }

    public Task<IReadOnlyDictionary<string, string>> CompleteAsync(int parallelism,
        CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

    /// <summary>Not offered: entries of a served cache are signed by their pusher or by the server.</summary>
    public Task<bool> SignAsync(SpecEntry entry, bool force, CancellationToken cancellationToken = default) =>
        throw new DepotException(ErrorKind.Unsupported,
            $"{server.Root}: a served cache's entries are signed when pushed, or by its server");

    /// <summary>Nothing: keys and the index are the server's business.</summary>
    public Task FinishAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default) =>
        Task.CompletedTask;

    private async Task UploadMissingAsync(IReadOnlyList<(string Sha256, Stream Content, long Length)> blobs,
        CancellationToken cancellationToken)
    {
        var missing = await server.MissingAsync(blobs.Select(b => b.Sha256), cancellationToken).ConfigureAwait(false);
        foreach (var (sha256, content, length) in blobs.Where(b => missing.Contains(b.Sha256)))
        {
            await content.FlushAsync(cancellationToken).ConfigureAwait(false);
            await server.UploadBlobAsync(sha256, content, length, cancellationToken).ConfigureAwait(false);
        }
    }
}
