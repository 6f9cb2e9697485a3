using Depot.Layout;

namespace Depot.Serving;

/// <summary>
/// The index a pull-through cache serves: its own entries and every upstream's (a consumer installs only what the
/// index lists), composed by the engine's index code (<see cref="IndexComposer"/>, the local index as the previous
/// state, so the local records keep their bytes) and kept in memory. The index blob goes into the local store
/// (content-addressed, harmless if unused), the manifest naming it is served in place of the store's own, which stays
/// the index of the entries the store holds. The composition is checked again after <c>ttl</c>: each index's
/// checksum is read (one small manifest each) and the index is composed again only when one changed. An upstream
/// that does not answer keeps its last index.
/// </summary>
internal sealed class MergedIndex(BuildCacheV3 local, IReadOnlyList<PullThroughUpstream> upstreams,
    TimeProvider clock) : IDisposable
{
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private readonly (string? Checksum, IndexSnapshot? Snapshot)[] upstreamIndexes =
        new (string?, IndexSnapshot?)[upstreams.Count];

    private State? state;
    private int compositions;
    private int upstreamFailures;

    private sealed record State(byte[]? Manifest, string?[] Checksums, DateTimeOffset CheckedAt);

    /// <summary>How many times the index was composed.</summary>
    public int Compositions => Volatile.Read(ref compositions);

    /// <summary>Upstream index reads that failed (the upstream's last index was kept).</summary>
    public int UpstreamFailures => Volatile.Read(ref upstreamFailures);

    public void Dispose() => refreshing.Dispose();

    /// <summary>Forgets the composition, so that the next request composes again (after a local index change).
    /// </summary>
    public void Invalidate() => Volatile.Write(ref state, null);

    /// <summary>The index manifest to serve, or null when neither the cache nor any upstream has an index.</summary>
    public async Task<byte[]?> ManifestAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref state) is { } fresh && clock.GetUtcNow() - fresh.CheckedAt < ttl)
        {
            return fresh.Manifest;
        }

        await refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref state) is { } again && clock.GetUtcNow() - again.CheckedAt < ttl)
            {
                return again.Manifest;
            }

            var checksums = new string?[upstreams.Count + 1];
            checksums[0] = await local.ReadIndexChecksumAsync(cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < upstreams.Count; i++)
            {
                checksums[i + 1] = await UpstreamChecksumAsync(i, cancellationToken).ConfigureAwait(false);
            }

            var previous = Volatile.Read(ref state);
            var manifest = previous is not null && previous.Checksums.SequenceEqual(checksums)
                ? previous.Manifest
                : await ComposeAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref state, new State(manifest, checksums, clock.GetUtcNow()));
            return manifest;
        }
        finally
        {
            refreshing.Release();
        }
    }

    // The upstream's index checksum, its index read when it changed; on failure the last one known.
    private async Task<string?> UpstreamChecksumAsync(int i, CancellationToken cancellationToken)
    {
        var layout = upstreams[i].Layout;
        try
        {
            var checksum = await layout.ReadIndexChecksumAsync(cancellationToken).ConfigureAwait(false);
            var (known, snapshot) = upstreamIndexes[i];
            if (checksum != known || (checksum is not null && snapshot is null))
            {
                var found = await layout.ReadIndexBytesAsync(cancellationToken).ConfigureAwait(false);
                upstreamIndexes[i] = (checksum, found is { } f ? IndexSnapshot.Read(f.Json, f.Location) : null);
            }

            return checksum;
        }
        catch (Exception e) when (e is not OperationCanceledException && ErrorKinds.Of(e) is not null)
        {
            Interlocked.Increment(ref upstreamFailures);
            return upstreamIndexes[i].Checksum;
        }
    }

    private async Task<byte[]?> ComposeAsync(CancellationToken cancellationToken)
    {
        IndexSnapshot? own = null;
        if (await local.ReadIndexBytesAsync(cancellationToken).ConfigureAwait(false) is { } found)
        {
            own = IndexSnapshot.Read(found.Json, found.Location);
        }

        if (own is null && upstreamIndexes.All(u => u.Snapshot is null))
        {
            return null;
        }

        // Roots: the cache's own entries, then each upstream's in order (the first that lists a hash provides it).
        var roots = new List<string>();
        var rootSet = new HashSet<string>(StringComparer.Ordinal);
        void AddRoots(IndexSnapshot snapshot)
        {
            foreach (var hash in snapshot.Order)
            {
                if (snapshot.Find(hash)!.InBuildcache && rootSet.Add(hash))
                {
                    roots.Add(hash);
                }
            }
        }

        if (own is not null)
        {
            AddRoots(own);
        }

        var nodes = new Dictionary<string, Specs.SpecNode>(StringComparer.Ordinal);
        foreach (var snapshot in upstreamIndexes.Select(u => u.Snapshot).OfType<IndexSnapshot>())
        {
            AddRoots(snapshot);
            foreach (var hash in snapshot.Order)
            {
                if (own?.Find(hash) is null && !nodes.ContainsKey(hash) && snapshot.Node(hash) is { } node)
                {
                    nodes[hash] = node;
                }
            }
        }

        var composed = IndexComposer.Compose(local.IndexDatabaseVersion, roots, own, nodes);
        var json = await composed.ToArrayAsync(cancellationToken).ConfigureAwait(false);
        var record = await local.PutBlobAsync(json, MediaTypes.IndexV8, "none", cancellationToken)
            .ConfigureAwait(false);
        Interlocked.Increment(ref compositions);
        return new BuildCacheManifest([record]).ToJsonBytes();
    }
}
