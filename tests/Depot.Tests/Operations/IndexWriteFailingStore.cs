using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// Wraps a store and refuses every write of an index (v3's index manifest, v2's <c>index.json</c> and its hash, OCI's
/// is a tag the layout writes through another path): the last step of a push or copy fails after its entries were
/// written, as a full disk or a revoked permission would make it. Everything else goes to the real store.
/// </summary>
public sealed class IndexWriteFailingStore(IObjectStore inner) : IObjectStore
{
    /// <summary>The one-line error every refused index write throws.</summary>
    public const string Refusal = "write refused: the test's disk is full";

    private int refused;

    /// <summary>Index writes refused so far (a test shows the failing step was reached).</summary>
    public int Refused => Volatile.Read(ref refused);

    public string Root => inner.Root;

    public bool ConditionalWritesAreAtomic => inner.ConditionalWritesAreAtomic;

    public string Describe(string key) => inner.Describe(key);

    public IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        inner.ListAsync(prefix, cancellationToken);

    public IAsyncEnumerable<string> ListKeysAsync(string prefix, CancellationToken cancellationToken = default) =>
        inner.ListKeysAsync(prefix, cancellationToken);

    public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
        inner.GetInfoAsync(key, cancellationToken);

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(key, cancellationToken);

    public Task<byte[]> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken = default) =>
        inner.ReadAllBytesAsync(key, maxBytes, cancellationToken);

    public Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        Check(key);
        return inner.WriteAsync(key, content, cancellationToken);
    }

    public Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        Check(key);
        return inner.WriteIfUnchangedAsync(key, content, expectedVersion, cancellationToken);
    }

    public async Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default) =>
        new Staged(this, await inner.CreateStagedAsync(cancellationToken).ConfigureAwait(false));

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(key, cancellationToken);

    private void Check(string key)
    {
        if (key.StartsWith("v3/manifests/index/", StringComparison.Ordinal)
            || key.StartsWith("build_cache/index.json", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref refused);
            throw new DepotException(ErrorKind.IO, $"{Describe(key)}: {Refusal}");
        }
    }

    private sealed class Staged(IndexWriteFailingStore store, IStagedObject inner) : IStagedObject
    {
        public Stream Content => inner.Content;

        public Task CommitAsync(string key, CancellationToken cancellationToken = default)
        {
            store.Check(key);
            return inner.CommitAsync(key, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
