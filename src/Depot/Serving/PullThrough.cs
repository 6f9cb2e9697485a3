using System.Collections.Concurrent;
using System.Text;
using Depot.Formats;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Serving;

/// <summary>What a pull-through cache did so far (for metrics and tests).</summary>
/// <param name="EntriesFetched">Entries fetched from an upstream, verified and stored.</param>
/// <param name="BlobsFetched">Blobs of verified entries fetched again on their own (missing locally).</param>
/// <param name="Misses">Keys no upstream has.</param>
/// <param name="Refused">Upstream entries refused (signature, checksum, DAG hash): nothing of them was stored.</param>
/// <param name="UpstreamFailures">Upstream reads that failed (the next upstream was tried).</param>
/// <param name="IndexCompositions">Times the merged index was composed.</param>
public sealed record PullThroughCounts(int EntriesFetched, int BlobsFetched, int Misses, int Refused,
    int UpstreamFailures, int IndexCompositions);

/// <summary>
/// A served cache that fetches what it misses from upstream mirrors (Spack 1.x's v3 layout). A miss of an entry's
/// manifest is read from the first upstream that has it and verified under that upstream's trust — signature, the spec
/// blob's and tarball's sha256, every node's DAG hash — before anything is stored: the blobs (checked as they stream),
/// then the manifest (as it was signed, or signed again with the cache's <c>sign_with</c> key), then the local index.
/// Only blobs a verified manifest names are fetched, so the cache is no open proxy. Concurrent misses of one key fetch
/// it once. An upstream that does not answer is recorded and the next one tried.
/// </summary>
/// <remarks>
/// What the cache publishes: with <c>sign_with</c>, only the server's key, which signs every fetched manifest; without,
/// the keys the upstreams' trust admits that the upstreams publish, and manifests are stored as signed upstream. The
/// index served is the cache's own merged with the upstreams' (<see cref="MergedIndex"/>).
/// </remarks>
public sealed class PullThrough : IDisposable
{
    private readonly ServedCacheConfig config;
    private readonly IObjectStore local;
    private readonly BuildCacheV3 localLayout;
    private readonly IReadOnlyList<PullThroughUpstream> upstreams;
    private readonly SigningChoice signing;
    private readonly EntrySigner? signer;
    private readonly IndexCache indexCache;
    private readonly MergedIndex merged;
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (PullThroughUpstream From, BlobRecord Record)> verifiedBlobs =
        new(StringComparer.Ordinal);
    private readonly SemaphoreSlim indexing = new(1, 1);
    private readonly Lock gate = new();
    private Task? ready;
    private int entriesFetched;
    private int blobsFetched;
    private int misses;
    private int refused;
    private int upstreamFailures;

    private PullThrough(ServedCacheConfig config, IObjectStore local, IReadOnlyList<PullThroughUpstream> upstreams,
        SigningChoice signing, IndexCache indexCache, TimeProvider clock)
    {
        this.config = config;
        this.local = local;
        localLayout = new BuildCacheV3(local);
        this.upstreams = upstreams;
        this.signing = signing;
        signer = EntrySigner.For(signing.Key);
        this.indexCache = indexCache;
        merged = new MergedIndex(localLayout, upstreams, clock);
    }

    /// <summary>How long the merged index is served before the indexes' checksums are read again.</summary>
    public TimeSpan IndexTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc/>
    public void Dispose()
    {
        indexing.Dispose();
        merged.Dispose();
    }

    /// <summary>What the cache fetched, refused and missed so far.</summary>
    public PullThroughCounts Counts => new(Volatile.Read(ref entriesFetched), Volatile.Read(ref blobsFetched),
        Volatile.Read(ref misses), Volatile.Read(ref refused),
        Volatile.Read(ref upstreamFailures) + merged.UpstreamFailures, merged.Compositions);

    /// <summary>
    /// The pull-through half of <paramref name="config"/>'s cache, or null when it names no upstream. Opens the cache's
    /// store for writing (its push connection) and each upstream for reading, and loads the <c>sign_with</c> key.
    /// </summary>
    /// <exception cref="DepotException">A mirror cannot be opened, or the signing key is not in the keyring.
    /// </exception>
    public static PullThrough? Create(ServedCacheConfig config, EngineContext engine, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(engine);
        if (config.Upstreams.Count == 0)
        {
            return null;
        }

        var local = engine.Open(config.Mirror, MirrorPurpose.Write).Writable;
        var upstreams = config.Upstreams.Select(u => new PullThroughUpstream(u,
            engine.Open(u.Mirror, MirrorPurpose.Read), engine.Home, config.TrustedFingerprints)).ToList();
        var signing = config.SignWith is { } key ? engine.SigningKey(key) : SigningChoice.Unsigned;
        return new PullThrough(config, local, upstreams, signing, engine.IndexCache, clock ?? TimeProvider.System);
    }

    /// <summary>
    /// The bytes served for <paramref name="key"/> in place of the store's object (the merged index manifest), or
    /// null to serve the store's. Publishes the cache's keys and <c>v3/layout.json</c> on the first call.
    /// </summary>
    /// <exception cref="DepotException">The cache's own store cannot be read or written.</exception>
    public async Task<byte[]?> ServedInsteadAsync(string key, CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        return key == BuildCacheV3.IndexManifestKey
            ? await merged.ManifestAsync(IndexTtl, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>
    /// After a local miss of <paramref name="key"/>: fetches it from an upstream when it is an entry's manifest (the
    /// whole entry, verified) or a blob a verified manifest named. True when the key is now in the cache's store;
    /// false when no upstream has it or it is not something the cache fetches. Concurrent calls for one key fetch once.
    /// </summary>
    /// <exception cref="DepotException">Every upstream holding the entry refused it (trust, invalid content: nothing
    /// was stored), or none answered (I/O, naming each).</exception>
    public async Task<bool> FetchAsync(string key, CancellationToken cancellationToken)
    {
        var flight = inFlight.GetOrAdd(key, k => new Lazy<Task<bool>>(() => FetchOnceAsync(k)));
        var task = flight.Value;
        _ = task.ContinueWith(_ => inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<bool>>>(key, flight)),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        // The fetch is shared: one client going away does not cancel it for the others.
        return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> FetchOnceAsync(string key)
    {
        await Task.Yield();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        var token = timeout.Token;
        if (key == BuildCacheV3.LayoutKey)
        {
            await localLayout.EnsureLayoutJsonAsync(token).ConfigureAwait(false);
            return true;
        }

        if (ServedKeys.Digest(key) is { } digest)
        {
            return await FetchBlobAsync(key, digest, token).ConfigureAwait(false);
        }

        if (key.StartsWith(BuildCacheV3.SpecManifestPrefix, StringComparison.Ordinal)
            && key.EndsWith(BuildCacheV3.SpecManifestSuffix, StringComparison.Ordinal)
            && PathNames.HashFromEntryName(key[(key.LastIndexOf('/') + 1)..]) is { } hash)
        {
            return await FetchEntryAsync(key, hash, token).ConfigureAwait(false);
        }

        return false;
    }

    private async Task<bool> FetchBlobAsync(string key, string digest, CancellationToken cancellationToken)
    {
        if (!verifiedBlobs.TryGetValue(digest, out var known))
        {
            return false; // not named by a verified manifest: not fetched for anyone
        }

        var blob = new TarballRef(known.Record.BlobKey, known.Record.Checksum, known.Record.ContentLength);
        await CheckedCopy.CopyAsync(known.From.Mirror.Store, blob, local, key, null, cancellationToken)
            .ConfigureAwait(false);
        Interlocked.Increment(ref blobsFetched);
        return true;
    }

    private async Task<bool> FetchEntryAsync(string key, string hash, CancellationToken cancellationToken)
    {
        var down = new List<string>();
        DepotException? refusal = null;
        foreach (var upstream in upstreams)
        {
            try
            {
                // The tarball is checked while it streams into the store (committed only when it matches).
                if (await ReadVerifiedAsync(upstream, key, hash, cancellationToken).ConfigureAwait(false) is
                    { } fetched)
                {
                    await StoreAsync(upstream, key, fetched, cancellationToken).ConfigureAwait(false);
                    return true;
                }
            }
            catch (Exception e) when (e is SignatureException or InvalidContentException)
            {
                // Tampered or damaged there: nothing was stored; another upstream may hold a good copy.
                Interlocked.Increment(ref refused);
                var d = (DepotException)e;
                refusal ??= new DepotException(d.Kind, $"cache {config.Name}: upstream {upstream.Name}: refused "
                    + $"{key}: {d.Message}; nothing was stored", e);
            }
            catch (Exception e) when (e is not OperationCanceledException && ErrorKinds.Of(e) is not null)
            {
                Interlocked.Increment(ref upstreamFailures);
                down.Add($"{upstream.Name} ({ErrorKinds.MessageOf(e)})");
            }
        }

        if (refusal is not null)
        {
            throw refusal;
        }

        if (down.Count > 0)
        {
            throw new DepotException(ErrorKind.IO, $"cache {config.Name}: {key}: no upstream answered: "
                + string.Join("; ", down));
        }

        Interlocked.Increment(ref misses);
        return false;
    }

    private sealed record Fetched(byte[] ManifestBytes, string Body, BuildCacheManifest Manifest, BlobRecord Spec,
        byte[] SpecBlob);

    // The manifest read once and checked: signature, spec blob checksum, layout version, DAG hashes. Null: not there.
    private static async Task<Fetched?> ReadVerifiedAsync(PullThroughUpstream upstream, string key, string hash,
        CancellationToken cancellationToken)
    {
        var store = upstream.Mirror.Store;
        var bytes = await store.TryReadAllBytesAsync(key, 16 << 20, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return null;
        }

        var location = store.Describe(key);
        var (trust, _) = await upstream.TrustAsync(cancellationToken).ConfigureAwait(false);
        trust.Check(Encoding.UTF8.GetString(bytes), location, out var body);
        var manifest = BuildCacheManifest.Parse(Encoding.UTF8.GetBytes(body), location);
        var specRecord = manifest.Find(MediaTypes.SpecPrefix, prefix: true)
            ?? throw new InvalidContentException(location, "manifest has no spec record");
        _ = manifest.Find(MediaTypes.Tarball)
            ?? throw new InvalidContentException(location, "manifest has no tarball record");
        var specBlob = await upstream.Layout.ReadBlobAsync(specRecord, location, cancellationToken)
            .ConfigureAwait(false);
        var blobLocation = store.Describe(specRecord.BlobKey);
        var json = specBlob.Length > 1 && specBlob[0] == 0x1f && specBlob[1] == 0x8b
            ? Gzip.Decompress(specBlob, blobLocation, Gzip.SpecLimit) : specBlob;
        var spec = SpecFile.Parse(json, blobLocation);
        BuildCacheLayoutExtensions.CheckLayoutVersion(upstream.Layout, spec.BuildcacheLayoutVersion, blobLocation);
        VerifiedEntries.CheckDagHashes(spec, hash, blobLocation);
        return new Fetched(bytes, body, manifest, specRecord, specBlob);
    }

    // Blobs first (the tarball checked as it streams; nothing is visible unless it matches), then the manifest.
    private async Task StoreAsync(PullThroughUpstream upstream, string key, Fetched fetched,
        CancellationToken cancellationToken)
    {
        foreach (var record in fetched.Manifest.Records.Where(r => r.BlobKey != fetched.Spec.BlobKey))
        {
            var blob = new TarballRef(record.BlobKey, record.Checksum, record.ContentLength);
            await CheckedCopy.CopyAsync(upstream.Mirror.Store, blob, local, record.BlobKey, null, cancellationToken)
                .ConfigureAwait(false);
        }

        if ((await local.GetInfoAsync(fetched.Spec.BlobKey, cancellationToken).ConfigureAwait(false))?.Length
            != fetched.SpecBlob.LongLength)
        {
            await local.WriteAllBytesAsync(fetched.Spec.BlobKey, fetched.SpecBlob, cancellationToken)
                .ConfigureAwait(false);
        }

        foreach (var record in fetched.Manifest.Records)
        {
            verifiedBlobs[record.Checksum] = (upstream, record);
        }

        var manifest = signer is null ? fetched.ManifestBytes : Encoding.UTF8.GetBytes(signer.Sign(fetched.Body));
        await local.WriteAllBytesAsync(key, manifest, cancellationToken).ConfigureAwait(false);
        await localLayout.EnsureLayoutJsonAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref entriesFetched);
        await UpdateIndexAsync(cancellationToken).ConfigureAwait(false);
    }

    // The store's own index lists what it holds; a failure here leaves the entry stored and served (the merged index
    // lists it through its upstream), and the next fetch updates the index again.
    private async Task UpdateIndexAsync(CancellationToken cancellationToken)
    {
        await indexing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await IndexOperation.IndexLayoutAsync(localLayout, new IndexOptions(Cache: indexCache), null,
                cancellationToken).ConfigureAwait(false);
        }
        catch (DepotException)
        {
            Interlocked.Increment(ref upstreamFailures);
        }
        finally
        {
            indexing.Release();
        }
    }

    private Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        Task task;
        lock (gate)
        {
            task = ready ??= PublishAsync();
        }

        return task.IsCompletedSuccessfully ? task : WaitReadyAsync(task, cancellationToken);
    }

    private async Task WaitReadyAsync(Task task, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && ErrorKinds.Of(e) is not null)
        {
            // An upstream down while its keys were read: try again on the next request; this one is still served.
            lock (gate)
            {
                if (ReferenceEquals(ready, task))
                {
                    ready = null;
                }
            }
        }
    }

    // v3/layout.json, and the keys a consumer needs to verify what this cache serves.
    private async Task PublishAsync()
    {
        await Task.Yield();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var token = timeout.Token;
        await localLayout.EnsureLayoutJsonAsync(token).ConfigureAwait(false);
        var keys = new List<PublishedKey>();
        if (signing.Published is { } own)
        {
            keys.Add(own);
        }
        else
        {
            foreach (var upstream in upstreams)
            {
                var (_, trusted) = await upstream.TrustAsync(token).ConfigureAwait(false);
                var published = await upstream.Layout.ReadPublishedKeysAsync(token).ConfigureAwait(false);
                keys.AddRange(published.Where(k => trusted.Contains(k.Fingerprint, StringComparer.OrdinalIgnoreCase)
                    && !keys.Any(have => have.Fingerprint == k.Fingerprint)));
            }
        }

        var there = await localLayout.ReadPublishedKeysAsync(token).ConfigureAwait(false);
        var missing = keys.Where(k => !there.Any(t => t.Fingerprint == k.Fingerprint)).ToList();
        if (missing.Count > 0)
        {
            await localLayout.PublishKeysAsync(missing, token).ConfigureAwait(false);
        }
    }
}
