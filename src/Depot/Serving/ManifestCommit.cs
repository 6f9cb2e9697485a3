using System.Text;
using Depot.Formats;
using Depot.Layout;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Serving;

/// <summary>What committing one entry's manifest did.</summary>
/// <param name="Key">Where the manifest was written.</param>
/// <param name="Hash">The entry's DAG hash.</param>
/// <param name="SignedBy">Fingerprint of the key that signed the stored manifest, or null when stored unsigned.
/// </param>
/// <param name="SignedByServer">True when the server signed it with the cache's own key.</param>
/// <param name="IndexedSpecs">Specs the index lists after the update that includes this entry.</param>
public sealed record CommitResult(string Key, string Hash, string? SignedBy, bool SignedByServer, int IndexedSpecs);

/// <summary>
/// Commits a pushed v3 entry, last: its manifest is checked (every blob it names present at its size, the spec blob's
/// DAG hash equal to the key's, the signature trusted for the cache, or unsigned only where the cache allows it or
/// signs itself), written, and the index updated before the commit returns.
/// </summary>
public sealed class ManifestCommit
{
    // A signed manifest is a few KiB; more is not a manifest.
    private const int MaxManifestBytes = 1 << 20;

    private readonly ServedCacheConfig config;
    private readonly Func<IObjectStore> store;
    private readonly Func<CancellationToken, Task<TrustPolicy>> trust;
    private readonly Lazy<(EntrySigner Signer, PublishedKey Published)?> signer;
    private readonly IndexUpdater index;
    private readonly Lock gate = new();
    private Task? keyPublished;

    internal ManifestCommit(ServedCacheConfig config, Func<IObjectStore> store,
        Func<CancellationToken, Task<TrustPolicy>> trust,
        Func<(EntrySigner, PublishedKey)?> signer, IndexUpdater index)
    {
        this.config = config;
        this.store = store;
        this.trust = trust;
        this.signer = new Lazy<(EntrySigner, PublishedKey)?>(signer);
        this.index = index;
    }

    /// <summary>Largest manifest accepted, in bytes.</summary>
    public static int MaxBytes => MaxManifestBytes;

    /// <summary>
    /// Checks and writes the manifest <paramref name="body"/> at <paramref name="key"/>, then waits until the index
    /// holds the entry.
    /// </summary>
    /// <exception cref="SignatureException">Untrusted, bad or missing signature (trust).</exception>
    /// <exception cref="DepotException">A malformed key (usage) or manifest (invalid content), blobs missing
    /// (conflict, naming them), a hash that does not match the key (invalid content), or the store fails.</exception>
    public async Task<CommitResult> CommitAsync(string key, ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken)
    {
        var hash = CheckKey(key);
        var location = $"{config.Name}/{key}";
        if (body.Length > MaxManifestBytes)
        {
            throw new BodyTooLargeException($"{location}: a manifest of {body.Length} bytes (at most "
                + $"{MaxManifestBytes})");
        }

        var text = Encoding.UTF8.GetString(body.Span);
        var signed = ClearSignedMessage.LooksClearSigned(body.Span[..Math.Min(64, body.Length)]);
        string? signedBy = null;
        string unsignedText;
        if (signed)
        {
            var policy = await trust(cancellationToken).ConfigureAwait(false);
            var verified = (policy.Verifier ?? throw new InvalidOperationException("no verifier"))
                .Verify(text, location);
            signedBy = verified.SignerFingerprint;
            unsignedText = verified.Text;
        }
        else
        {
            unsignedText = text;
            if (signer.Value is null && !config.AllowUnsigned)
            {
                throw new SignatureException(location, SignatureFailure.Unsigned,
                    $"not signed, and cache {config.Name} accepts only entries signed by a key it trusts");
            }
        }

        var manifest = BuildCacheManifest.Parse(Encoding.UTF8.GetBytes(unsignedText), location);
        var target = store();
        await CheckBlobsAsync(target, manifest, location, cancellationToken).ConfigureAwait(false);
        await CheckSpecAsync(target, manifest, key, hash, location, cancellationToken).ConfigureAwait(false);

        var stored = body;
        var byServer = false;
        if (!signed && signer.Value is { } own)
        {
            stored = Encoding.UTF8.GetBytes(own.Signer.Sign(unsignedText));
            signedBy = own.Published.Fingerprint;
            byServer = true;
            await PublishKeyOnceAsync(target, own.Published, cancellationToken).ConfigureAwait(false);
        }

        var layout = new BuildCacheV3(target);
        await target.WriteAllBytesAsync(key, stored, cancellationToken).ConfigureAwait(false);
        await layout.EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
        var indexed = await index.UpdateAsync(cancellationToken).ConfigureAwait(false);
        return new CommitResult(key, hash, signedBy, byServer, indexed.Specs);
    }

    /// <summary>The DAG hash a v3 spec manifest key names.</summary>
    /// <exception cref="DepotException">Not a v3 spec manifest key (usage).</exception>
    public static string CheckKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var rest = key.StartsWith(BuildCacheV3.SpecManifestPrefix, StringComparison.Ordinal)
            && key.EndsWith(BuildCacheV3.SpecManifestSuffix, StringComparison.Ordinal)
            ? key[BuildCacheV3.SpecManifestPrefix.Length..] : "";
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var hash = slash > 0 && rest.IndexOf('/', slash + 1) < 0 ? PathNames.HashFromEntryName(rest[(slash + 1)..])
            : null;
        if (hash is null || key.Contains("..", StringComparison.Ordinal))
        {
            throw new DepotException(ErrorKind.Usage, $"'{key}' is not an entry's manifest key "
                + $"({BuildCacheV3.SpecManifestPrefix}NAME/NAME-VERSION-HASH{BuildCacheV3.SpecManifestSuffix})");
        }

        StoreKeys.Check(key, "manifest");
        return hash;
    }

    private static async Task CheckBlobsAsync(IObjectStore target, BuildCacheManifest manifest, string location,
        CancellationToken cancellationToken)
    {
        if (manifest.Find(MediaTypes.Tarball) is null || manifest.Find(MediaTypes.SpecPrefix, prefix: true) is null)
        {
            throw new InvalidContentException(location,
                $"an entry's manifest names a tarball ({MediaTypes.Tarball}) and a spec "
                + $"({MediaTypes.SpecPrefix}N+json)");
        }

        var missing = new List<string>();
        foreach (var record in manifest.Records)
        {
            var info = await target.GetInfoAsync(record.BlobKey, cancellationToken).ConfigureAwait(false);
            if (info is null || info.Length != record.ContentLength)
            {
                missing.Add("sha256:" + record.Checksum);
            }
        }

        if (missing.Count > 0)
        {
            throw new MissingBlobsException(location, missing);
        }
    }

    private static async Task CheckSpecAsync(IObjectStore target, BuildCacheManifest manifest, string key,
        string hash, string location, CancellationToken cancellationToken)
    {
        var record = manifest.Find(MediaTypes.SpecPrefix, prefix: true)!;
        var layout = new BuildCacheV3(target);
        var blob = await layout.ReadBlobAsync(record, location, cancellationToken).ConfigureAwait(false);
        var spec = SpecFile.Parse(blob, target.Describe(record.BlobKey));
        var recomputed = DagHash.Compute(spec.Root.Json);
        if (recomputed != hash || spec.Root.Hash != hash)
        {
            throw new InvalidContentException(location,
                $"the spec inside has DAG hash {recomputed} (recorded {spec.Root.Hash}), not the {hash} of its key");
        }

        if (BuildCacheV3.SpecManifestKey(spec.Root) != key)
        {
            throw new InvalidContentException(location,
                $"the spec inside is filed at {BuildCacheV3.SpecManifestKey(spec.Root)}, not at this key");
        }

        if (spec.BuildcacheLayoutVersion > layout.MaxSpecLayoutVersion)
        {
            throw new InvalidContentException(location,
                $"buildcache_layout_version {spec.BuildcacheLayoutVersion} is too new");
        }
    }

    private Task PublishKeyOnceAsync(IObjectStore target, PublishedKey key, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (keyPublished is null || keyPublished.IsFaulted || keyPublished.IsCanceled)
            {
                keyPublished = PublishKeyAsync(target, key, cancellationToken);
            }

            return keyPublished;
        }
    }

    private static async Task PublishKeyAsync(IObjectStore target, PublishedKey key,
        CancellationToken cancellationToken)
    {
        var manifestKey = BuildCacheV3.KeyManifestPrefix + key.Fingerprint + BuildCacheV3.KeyManifestSuffix;
        if (!await target.ExistsAsync(manifestKey, cancellationToken).ConfigureAwait(false))
        {
            await new BuildCacheV3(target).PublishKeysAsync([key], cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>A manifest naming blobs the cache does not hold (HTTP 409, the digests in the message and listed).
/// </summary>
public sealed class MissingBlobsException(string location, IReadOnlyList<string> missing)
    : DepotException(ErrorKind.Conflict,
        $"{location}: blobs missing (upload them first): {string.Join(", ", missing)}")
{
    /// <summary>The digests missing, <c>sha256:&lt;hex&gt;</c>.</summary>
    public IReadOnlyList<string> Missing { get; } = missing;
}
