using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// Wraps a store and refuses every write under some prefixes — by default the index (v3's index manifest, v2's
/// <c>index.json</c> and its hash), or the published keys: the last step of a push, copy or sign fails after its
/// entries were written, as a full disk or a revoked permission would make it. Everything else goes to the real store.
/// </summary>
public sealed class IndexWriteFailingStore(IObjectStore inner, string[]? refusedPrefixes = null) : IObjectStore
{
    /// <summary>Where index writes go: v3's index manifest, v2's <c>index.json</c> and its hash.</summary>
    public static readonly string[] IndexKeys = ["v3/manifests/index/", "build_cache/index.json"];

    /// <summary>Where published keys go (v3 key manifests, v2 <c>_pgp/</c>).</summary>
    public static readonly string[] KeyKeys = ["v3/manifests/key/", "build_cache/_pgp/"];

    private readonly string[] prefixes = refusedPrefixes ?? IndexKeys;

    /// <summary>The one-line error every refused index write throws.</summary>
    public const string Refusal = "write refused: the test's disk is full";

    private int refused;

    /// <summary>Writes refused so far (a test shows the failing step was reached).</summary>
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
        if (prefixes.Any(prefix => key.StartsWith(prefix, StringComparison.Ordinal)))
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
