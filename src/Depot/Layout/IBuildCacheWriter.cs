using Depot.Specs;
using Depot.Storage;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Layout;

/// <summary>
/// Writes entries in one build cache layout, the same way for every caller (push, copy, sign, an upload): whether an
/// entry is there, write one, sign one in place, and finish. Made by <see cref="IBuildCacheLayout.CreateWriter"/>.
/// Safe to call from several tasks at once for different specs.
/// </summary>
public interface IBuildCacheWriter
{
    /// <summary>The layout written (and read back for <see cref="ExistsAsync"/> and <see cref="SignAsync"/>).</summary>
    IBuildCacheLayout Layout { get; }

    /// <summary>True when this writer signs what it writes (<see cref="EntryWriterOptions.SigningKey"/>).</summary>
    bool Signs { get; }

    /// <summary>
    /// True when <see cref="WriteAsync"/> uses the sha256 of the uncompressed tar (OCI images list it in
    /// <c>rootfs.diff_ids</c>): a caller that makes the tarball can hash it on the way; otherwise it is read back.
    /// </summary>
    bool NeedsTarDigest { get; }

    /// <summary>
    /// True when entries written are complete only after <see cref="CompleteAsync"/> (OCI images), so whether one
    /// succeeded is known only then; false when <see cref="WriteAsync"/> completes each entry.
    /// </summary>
    bool CompletesLater { get; }

    /// <summary>
    /// True when the mirror's server updates its index itself as each entry is committed (a Depot server): callers
    /// then write no index (nor keys, which are the server's business).
    /// </summary>
    bool ServerUpdatesIndex => false;

    /// <summary>
    /// Starts the object a tarball is staged in before <see cref="WriteAsync"/> commits it: the store's own staging
    /// by default; a writer that uploads elsewhere stages where it can resume from.
    /// </summary>
    /// <exception cref="ReadOnlyStoreException">The store can only be read.</exception>
    Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default) =>
        Layout.Store.RequireWritable().CreateStagedAsync(cancellationToken);

    /// <summary>
    /// True when the mirror holds a complete entry for <paramref name="spec"/>: its metadata and every object it names
    /// (the tarball, and the spec blob in v3), and a signature when <see cref="Signs"/>. A partial or malformed entry
    /// is absent (it is rewritten).
    /// </summary>
    Task<bool> ExistsAsync(SpecNode spec, CancellationToken cancellationToken = default);

    /// <summary>
    /// Commits the staged tarball and writes the entry's metadata from <paramref name="spec"/> (only its <c>spec</c>
    /// key is kept), signed when <see cref="Signs"/>. Data goes before the metadata naming it, so a reader never sees
    /// an entry before its tarball. Entries that name other entries (OCI images list their dependencies' layers) are
    /// complete only after <see cref="CompleteAsync"/>.
    /// </summary>
    /// <exception cref="DepotException">The store refused a write.</exception>
    Task WriteAsync(SpecFile spec, StagedTarball tarball, CancellationToken cancellationToken = default);

    /// <summary>
    /// Copies an entry of <paramref name="from"/> byte for byte, keeping its signature, when it is this writer's kind
    /// of layout: the tarball (streamed and checked against <paramref name="tarball"/>), the other objects it names,
    /// the metadata last. Returns the tarball's size, or null, having written nothing, when the entry must be
    /// rewritten with <see cref="WriteAsync"/> instead.
    /// </summary>
    /// <exception cref="InvalidContentException">
    /// An object does not match its checksum (nothing of it is visible).
    /// </exception>
    Task<long?> TryCopyAsync(IBuildCacheLayout from, SpecEntry entry, TarballRef tarball, Action<long>? progress,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Completes the entries written so far that need others (OCI: each spec's image, which names its dependencies'
    /// layers, and its signature); nothing for v3 and v2. Returns an error message per spec hash whose entry could not
    /// be completed.
    /// </summary>
    Task<IReadOnlyDictionary<string, string>> CompleteAsync(int parallelism,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Signs an existing entry in place with <see cref="EntryWriterOptions.SigningKey"/>, keeping the signed text byte
    /// for byte (v3 manifest clearsigned; v2 <c>.spec.json.sig</c> replacing <c>.spec.json</c>; OCI: a signature
    /// artifact beside the untouched image). The entry is read and checked first. Returns false, changing nothing,
    /// when it is already signed by this key and <paramref name="force"/> is false.
    /// </summary>
    /// <exception cref="DepotException">The entry is malformed, or this writer has no signing key.</exception>
    Task<bool> SignAsync(SpecEntry entry, bool force, CancellationToken cancellationToken = default);

    /// <summary>
    /// Finishes a batch of writes: publishes <paramref name="keys"/> where Spack looks for them (and the key index).
    /// The index is then written through <see cref="IBuildCacheLayout.TryWriteIndexBytesAsync"/>.
    /// </summary>
    Task FinishAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default);
}

/// <summary>A tarball staged in the destination store, not yet visible.</summary>
/// <param name="Staged">The staged object; <see cref="IBuildCacheWriter.WriteAsync"/> commits it.</param>
/// <param name="Sha256">sha256 (lower-case hex) of the gzip'd tarball.</param>
/// <param name="Length">Its size in bytes.</param>
/// <param name="TarSha256">sha256 of the tar inside, when the caller computed it (else read back when needed).</param>
public sealed record StagedTarball(IStagedObject Staged, string Sha256, long Length, string? TarSha256 = null);

/// <summary>How a writer writes.</summary>
/// <param name="SigningKey">Signs what is written (null: unsigned); it must be usable without a passphrase.</param>
/// <param name="SpecLayoutVersion">
/// v2 spec files' <c>buildcache_layout_version</c>: 1 as Spack 0.21 writes, 2 as 0.22/0.23.
/// </param>
/// <param name="Prefixes">
/// Build and local prefix of a node, for OCI images' search paths (null: unknown, as for copied entries).
/// </param>
/// <param name="BaseImage">OCI: the image spec images are built on (<c>--base-image</c>), or null for none.</param>
public sealed record EntryWriterOptions(PgpSecretKey? SigningKey = null, int SpecLayoutVersion = 2,
    Func<SpecNode, (string Build, string Local)?>? Prefixes = null, string? BaseImage = null);
