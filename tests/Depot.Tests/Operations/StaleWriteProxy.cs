using Depot.Formats;
using Depot.Layout;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// A layout whose first index write is held back until another writer (<c>race</c>) has committed its own index,
/// which forces the interleaving two concurrent index updates can take. With <c>compareAlreadyPassed</c>, the held
/// write then goes out with the version the other writer left, as when the store's compare ran before the other write
/// and the write itself after it: the window a store without atomic conditional writes (s3rver, a registry) leaves
/// open, so the stale index lands. Without it, the write carries the version it read, and the store must refuse it.
/// </summary>
internal sealed class StaleWriteProxy(IBuildCacheLayout inner, Func<Task> race, bool compareAlreadyPassed)
    : IBuildCacheLayout
{
    private Func<Task>? pending = race;

    /// <summary>Whether the held-back write landed (null until it was made).</summary>
    public bool? StaleWriteLanded { get; private set; }

    /// <summary>Specs the index held right after the held-back write.</summary>
    public int SpecsAfterStaleWrite { get; private set; }

    public int Version => inner.Version;

    public IStoreReader Store => inner.Store;

    public int IndexDatabaseVersion => inner.IndexDatabaseVersion;

    public string IndexKey => inner.IndexKey;

    public string Name => inner.Name;

    public int MaxSpecLayoutVersion => inner.MaxSpecLayoutVersion;

    public Task<SpecEntry> EntryForAsync(SpecNode node, CancellationToken cancellationToken = default) =>
        inner.EntryForAsync(node, cancellationToken);

    public IAsyncEnumerable<SpecEntry> ListSpecEntriesAsync(CancellationToken cancellationToken = default) =>
        inner.ListSpecEntriesAsync(cancellationToken);

    public Task<RawEntry> ReadRawEntryAsync(SpecEntry entry, Depot.Signing.TrustPolicy? trust,
        CancellationToken cancellationToken = default) => inner.ReadRawEntryAsync(entry, trust, cancellationToken);

    public TarballRef? TarballOf(SpecFile spec, RawEntry raw) => inner.TarballOf(spec, raw);

    public Task<IReadOnlyList<PublishedKey>> ReadPublishedKeysAsync(CancellationToken cancellationToken = default) =>
        inner.ReadPublishedKeysAsync(cancellationToken);

    public Task PublishKeysAsync(IReadOnlyList<PublishedKey> keys, CancellationToken cancellationToken = default) =>
        inner.PublishKeysAsync(keys, cancellationToken);

    public Task<string?> ReadIndexChecksumAsync(CancellationToken cancellationToken = default) =>
        inner.ReadIndexChecksumAsync(cancellationToken);

    public Task<(byte[] Json, string Location)?> ReadIndexBytesAsync(CancellationToken cancellationToken = default) =>
        inner.ReadIndexBytesAsync(cancellationToken);

    public Task<string> WriteIndexBytesAsync(byte[] json, CancellationToken cancellationToken = default) =>
        inner.WriteIndexBytesAsync(json, cancellationToken);

    public async Task<string?> TryWriteIndexBytesAsync(byte[] json, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref pending, null) is not { } run)
        {
            return await inner.TryWriteIndexBytesAsync(json, expectedVersion, cancellationToken);
        }

        await run();
        var sent = compareAlreadyPassed
            ? (await inner.Store.GetInfoAsync(inner.IndexKey, cancellationToken))?.Version
            : expectedVersion;
        var written = await inner.TryWriteIndexBytesAsync(json, sent, cancellationToken);
        StaleWriteLanded = written is not null;
        SpecsAfterStaleWrite = (await inner.ReadIndexAsync(cancellationToken))?.CachedSpecs.Count() ?? 0;
        return written;
    }

    public IBuildCacheWriter CreateWriter(EntryWriterOptions options) => inner.CreateWriter(options);
}
