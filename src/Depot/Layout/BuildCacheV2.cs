using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Depot.Formats;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Layout;

/// <summary>
/// The <c>build_cache/</c> layout of Spack 0.21 to 0.23 (Spack 1.x reads it as "layout v2"): flat spec files
/// (<c>.spec.json</c> or clearsigned <c>.spec.json.sig</c>), <c>.spack</c> tarballs in nested folders, and
/// <c>index.json</c> with <c>index.json.hash</c>.
/// </summary>
public sealed class BuildCacheV2 : IBuildCacheLayout
{
    public const string Prefix = "build_cache/";
    public const string IndexJsonKey = "build_cache/index.json";
    public const string IndexHashKey = "build_cache/index.json.hash";
    public const string SignedSuffix = ".spec.json.sig";
    public const string PlainSuffix = ".spec.json";
    public const string KeysPrefix = "build_cache/_pgp/";
    public const string KeyIndexKey = "build_cache/_pgp/index.json";

    /// <summary>Highest <c>buildcache_layout_version</c> inside v2 spec files that Depot reads (0.22+ write
    /// 2).</summary>
    public const int MaxSpecLayoutVersion2 = 2;

    public BuildCacheV2(IStoreReader store) => Store = store;

    /// <summary>True when <paramref name="store"/> holds anything under <c>build_cache/</c>.</summary>
    public static Task<bool> IsPresentAsync(IStoreReader store, CancellationToken cancellationToken = default) =>
        StoreProbe.AnyAsync(store, Prefix, cancellationToken);

    public int Version => 2;

    public IStoreReader Store { get; }

    /// <summary>The store, for writing; a read-only store (plain HTTP) is refused here, before any write.</summary>
    private IObjectStore Writable => Store.RequireWritable();

    public int IndexDatabaseVersion => 7;

    public string IndexKey => IndexJsonKey;

    /// <summary><c>{arch}-{compiler}-{compiler version}-{name}-{version}-{hash}</c>; <c>none-none</c> without a
    /// compiler.</summary>
    public static string TarballStem(SpecNode node) =>
        PathNames.Polite($"{node.Architecture}-{node.Compiler?.Name ?? "none"}-{node.Compiler?.Version ?? "none"}-"
            + $"{node.Name}-{node.Version}-{node.Hash}");

    /// <summary><c>build_cache/{arch}/{compiler}-{compiler version}/{name}-{version}/{stem}.spack</c>.</summary>
    public static string TarballKey(SpecNode node) =>
        $"{Prefix}{PathNames.Polite(node.Architecture)}/"
        + $"{PathNames.Polite($"{node.Compiler?.Name ?? "none"}-{node.Compiler?.Version ?? "none"}")}/"
        + $"{PathNames.Polite($"{node.Name}-{node.Version}")}/{TarballStem(node)}.spack";

    public static string SpecFileKey(SpecNode node, bool signed) =>
        Prefix + TarballStem(node) + (signed ? SignedSuffix : PlainSuffix);

    /// <summary>The signed spec file when there is one, else the plain one.</summary>
    public async Task<SpecEntry> EntryForAsync(SpecNode node, CancellationToken cancellationToken = default)
    {
        var signed = SpecFileKey(node, signed: true);
        return await Store.ExistsAsync(signed, cancellationToken).ConfigureAwait(false)
            ? new SpecEntry(signed, node.Hash, Signed: true)
            : new SpecEntry(SpecFileKey(node, signed: false), node.Hash, Signed: false);
    }

    public async IAsyncEnumerable<SpecEntry> ListSpecEntriesAsync(
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Store is not IStoreLister lister)
        {
            // Over HTTP the index says what is cached; the signed spec file is preferred, as Spack does.
            foreach (var node in (await this.ReadIndexAsync(cancellationToken).ConfigureAwait(false))?.CachedSpecs
                ?? [])
            {
                var signedKey = SpecFileKey(node, signed: true);
                yield return await Store.GetInfoAsync(signedKey, cancellationToken).ConfigureAwait(false) is not null
                    ? new SpecEntry(signedKey, node.Hash, Signed: true)
                    : new SpecEntry(SpecFileKey(node, signed: false), node.Hash, Signed: false);
            }

            yield break;
        }

        // Spec files are flat in build_cache/; a hash with both variants is read from the signed one.
        var found = new Dictionary<string, SpecEntry>(StringComparer.Ordinal);
        await foreach (var key in lister.ListKeysAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            var name = key[Prefix.Length..];
            if (name.Contains('/', StringComparison.Ordinal))
            {
                continue;
            }

            var signed = name.EndsWith(SignedSuffix, StringComparison.Ordinal);
            if (!signed && !name.EndsWith(PlainSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            if (PathNames.HashFromEntryName(name) is { } hash && (signed || !found.ContainsKey(hash)))
            {
                found[hash] = new SpecEntry(key, hash, signed);
            }
        }

        foreach (var entry in found.Values)
        {
            yield return entry;
        }
    }

    public int MaxSpecLayoutVersion => MaxSpecLayoutVersion2;

    public async Task<RawEntry> ReadRawEntryAsync(SpecEntry entry, TrustPolicy? trust,
        CancellationToken cancellationToken = default)
    {
        var location = Store.Describe(entry.Key);
        var bytes = await Store.ReadAllBytesAsync(entry.Key, 64 << 20, cancellationToken).ConfigureAwait(false);
        if (bytes.Length > 1 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            throw new InvalidContentException(location,
                "compressed spec files are not allowed in a build_cache/ layout");
        }

        string? signer = null;
        if (trust is not null)
        {
            signer = trust.Check(Encoding.UTF8.GetString(bytes), location, out var body)?.SignerFingerprint;
            bytes = Encoding.UTF8.GetBytes(body);
        }
        else if (ClearSignedMessage.LooksClearSigned(bytes))
        {
            bytes = Encoding.UTF8.GetBytes(ClearSignedMessage.Parse(Encoding.UTF8.GetString(bytes), location).Body);
        }

        return new RawEntry(bytes, location, signer, null);
    }

    // Spack requires the checksum only to install; the index does not need it, so it is checked where used.
    public TarballRef? TarballOf(SpecFile spec, RawEntry raw) =>
        spec.BinaryCacheChecksum is { Algorithm: "sha256", Hash.Length: 64 } checksum
            ? new TarballRef(TarballKey(spec.Root), checksum.Hash.ToLowerInvariant(), null)
            : null;

    public async Task<IReadOnlyList<PublishedKey>> ReadPublishedKeysAsync(CancellationToken cancellationToken = default)
    {
        var fingerprints = new List<string>();
        var index = await Store.TryReadAllBytesAsync(KeyIndexKey, Gzip.SpecLimit, cancellationToken)
            .ConfigureAwait(false);
        if (index is not null)
        {
            fingerprints = BuildCacheLayoutExtensions.ParseKeyIndex(index, Store.Describe(KeyIndexKey));
        }
        else
        {
            fingerprints = await ListKeyFilesAsync(cancellationToken).ConfigureAwait(false);
        }

        var keys = new List<PublishedKey>();
        foreach (var fpr in fingerprints.Order(StringComparer.Ordinal))
        {
            var key = KeysPrefix + fpr + ".pub";
            keys.Add(new PublishedKey(fpr,
                Encoding.ASCII.GetString(await Store.ReadAllBytesAsync(key, 1 << 20, cancellationToken)
                    .ConfigureAwait(false)),
                Store.Describe(key)));
        }

        return keys;
    }

    public async Task PublishKeysAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default)
    {
        foreach (var key in keys)
        {
            await Writable.WriteAllTextAsync(KeysPrefix + key.Fingerprint + ".pub", key.Armored, cancellationToken)
                .ConfigureAwait(false);
        }

        var published = await ListKeyFilesAsync(cancellationToken).ConfigureAwait(false);
        await Writable.WriteAllBytesAsync(KeyIndexKey, BuildCacheLayoutExtensions.KeyIndexJson(published),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<string>> ListKeyFilesAsync(CancellationToken cancellationToken)
    {
        var fingerprints = new List<string>();
        var listed = (Store as IStoreLister)?.ListAsync(KeysPrefix, cancellationToken)
            ?? AsyncEnumerable.Empty<StoreObject>();
        await foreach (var obj in listed.ConfigureAwait(false))
        {
            var name = obj.Key[KeysPrefix.Length..];
            if (!name.Contains('/', StringComparison.Ordinal) && name.EndsWith(".pub", StringComparison.Ordinal))
            {
                fingerprints.Add(name[..^4]);
            }
        }

        return fingerprints;
    }

    public async Task<(byte[] Json, string Location)?> ReadIndexBytesAsync(CancellationToken cancellationToken =
        default)
    {
        // Spack ignores a mismatching index.json.hash on purpose (it is only a freshness hint), and so do we.
        var bytes = await Store.TryReadAllBytesAsync(IndexJsonKey, Gzip.IndexLimit, cancellationToken)
            .ConfigureAwait(false);
        return bytes is null ? null : (bytes, Store.Describe(IndexJsonKey));
    }

    /// <summary>Writes <c>index.json</c> (atomically), then its <c>index.json.hash</c>.</summary>
    public async Task<string> WriteIndexBytesAsync(byte[] json, CancellationToken cancellationToken = default)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(json));
        await Writable.WriteAllBytesAsync(IndexJsonKey, json, cancellationToken).ConfigureAwait(false);
        await Writable.WriteAllBytesAsync(IndexHashKey, Encoding.ASCII.GetBytes(hash), cancellationToken)
            .ConfigureAwait(false);
        return hash;
    }

    /// <summary><c>index.json</c> conditionally, then its <c>index.json.hash</c>.</summary>
    public async Task<string?> TryWriteIndexBytesAsync(byte[] json, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(json));
        if (!await Writable.WriteIfUnchangedAsync(IndexJsonKey, new MemoryStream(json, writable: false),
            expectedVersion, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        await Writable.WriteAllBytesAsync(IndexHashKey, Encoding.ASCII.GetBytes(hash), cancellationToken)
            .ConfigureAwait(false);
        return hash;
    }

    public async Task<string?> ReadIndexChecksumAsync(CancellationToken cancellationToken = default)
    {
        // Spack's own freshness check: index.json.hash, when it holds a well-formed digest.
        var bytes = await Store.TryReadAllBytesAsync(IndexHashKey, 4096, cancellationToken).ConfigureAwait(false);
        var text = bytes is null ? null : Encoding.ASCII.GetString(bytes).Trim();
        return text is { Length: 64 } && text.All(char.IsAsciiHexDigitLower) ? text : null;
    }

    public IBuildCacheWriter CreateWriter(EntryWriterOptions options) => new BuildCacheV2Writer(this, options);
}
