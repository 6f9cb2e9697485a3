using System.Buffers;
using Depot.Formats;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>
/// Writes <c>build_cache/</c> entries as Spack 0.21 (<c>buildcache_layout_version</c> 1) or 0.22/0.23 (2) do: the
/// tarball, then the (clearsigned) spec file naming its checksum, and no other variant of that spec file; published
/// keys under <c>_pgp/</c> with their index.
/// </summary>
public sealed class BuildCacheV2Writer(BuildCacheV2 layout, EntryWriterOptions options) : IBuildCacheWriter
{
    private readonly EntrySigner? signer = EntrySigner.For(options.SigningKey);

    private IObjectStore Store => layout.Store.RequireWritable();

    public IBuildCacheLayout Layout => layout;

    public bool Signs => signer is not null;

    public bool NeedsTarDigest => false;

    public bool CompletesLater => false;

    /// <summary>A spec file (the signed one when this writer signs) and the tarball.</summary>
    public async Task<bool> ExistsAsync(SpecNode spec, CancellationToken cancellationToken = default)
    {
        var signedKey = BuildCacheV2.SpecFileKey(spec, signed: true);
        var plainKey = BuildCacheV2.SpecFileKey(spec, signed: false);
        var specFile = await Store.ExistsAsync(signedKey, cancellationToken).ConfigureAwait(false)
            || (!Signs && await Store.ExistsAsync(plainKey, cancellationToken).ConfigureAwait(false));
        return specFile
            && await Store.ExistsAsync(BuildCacheV2.TarballKey(spec), cancellationToken).ConfigureAwait(false);
    }

    public async Task WriteAsync(SpecFile spec, StagedTarball tarball, CancellationToken cancellationToken = default)
    {
        await tarball.Staged.CommitAsync(BuildCacheV2.TarballKey(spec.Root), cancellationToken).ConfigureAwait(false);

        var text = SpecFileText(spec, tarball.Sha256, options.SpecLayoutVersion);
        var specFileKey = BuildCacheV2.SpecFileKey(spec.Root, Signs);
        await Store.WriteAllBytesAsync(specFileKey, signer?.Sign(text) ?? text, cancellationToken)
            .ConfigureAwait(false);

        // A mirror holds one spec file per entry: the other variant would shadow or contradict this one.
        await Store.DeleteAsync(BuildCacheV2.SpecFileKey(spec.Root, !Signs), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The spec file of an entry: the installed spec.json with two keys appended, json.dump(indent=0)
    /// (buildcache-v2.md §3). Only the spec is kept: an entry copied from a registry brings image-config keys a spec
    /// file has no place for.
    /// </summary>
    internal static byte[] SpecFileText(SpecFile spec, string tarballSha256, int specLayoutVersion)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var json = new PythonJsonWriter(buffer, PythonJsonStyle.IndentZero);
        json.StartObject();
        json.WritePropertyName("spec");
        json.WriteElement(spec.Document.RootElement.GetProperty("spec"));
        json.WriteNumber("buildcache_layout_version", specLayoutVersion);
        json.WritePropertyName("binary_cache_checksum");
        json.StartObject();
        json.WriteString("hash_algorithm", "sha256");
        json.WriteString("hash", tarballSha256);
        json.EndObject();
        json.EndObject();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// From another v2 mirror: the tarball, then the spec file's own bytes (the other variant removed).
    /// </summary>
    public async Task<long?> TryCopyAsync(IBuildCacheLayout from, SpecEntry entry, TarballRef tarball,
        Action<long>? progress, CancellationToken cancellationToken = default)
    {
        if (from is not BuildCacheV2)
        {
            return null;
        }

        var metadata = await from.Store.ReadAllBytesAsync(entry.Key, 16 << 20, cancellationToken).ConfigureAwait(false);
        var length = await CheckedCopy.CopyAsync(from.Store, tarball, Store, tarball.Key, progress, cancellationToken)
            .ConfigureAwait(false);
        var signed = entry.Key.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal);
        var stem = entry.Key[..^(signed ? BuildCacheV2.SignedSuffix : BuildCacheV2.PlainSuffix).Length];
        var otherVariant = stem + (signed ? BuildCacheV2.PlainSuffix : BuildCacheV2.SignedSuffix);
        await Store.DeleteAsync(otherVariant, cancellationToken).ConfigureAwait(false);
        await Store.WriteAllBytesAsync(entry.Key, metadata, cancellationToken).ConfigureAwait(false);
        return length;
    }

    public Task<IReadOnlyDictionary<string, string>> CompleteAsync(int parallelism,
        CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

    /// <summary>
    /// The spec file clearsigned as <c>.spec.json.sig</c>; a plain <c>.spec.json</c> is then removed.
    /// </summary>
    public Task<bool> SignAsync(SpecEntry entry, bool force, CancellationToken cancellationToken = default)
    {
        var signedKey = entry.Key.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal)
            ? entry.Key
            : entry.Key + ".sig";
        return EntrySigner.Required(signer, layout)
            .SignInPlaceAsync(layout, entry, signedKey, force, cancellationToken);
    }

    public async Task FinishAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default)
    {
        if (keys.Count > 0)
        {
            await layout.PublishKeysAsync(keys, cancellationToken).ConfigureAwait(false);
        }
    }
}
