using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>What a <see cref="CancellingStore"/> counts: reads (info, open, whole reads), writes (writes, conditional
/// writes, staged commits, deletes) or listings.</summary>
public enum StoreCall
{
    Read,
    Write,
    List,
}

/// <summary>
/// Wraps a store and cancels <see cref="Source"/> at the <c>N</c>th call of one kind, as a user pressing Ctrl-C while
/// that request is under way: the call sees its token cancelled and throws, and every later call finds the token
/// cancelled. Everything else goes to the real store. <see cref="Fired"/> says whether the Nth call came at all, so a
/// test cannot pass by cancelling nothing.
/// </summary>
public sealed class CancellingStore(IObjectStore inner, StoreCall kind, int nth) : IObjectStore
{
    private int calls;

    /// <summary>The source to build the operation's token from.</summary>
    public CancellationTokenSource Source { get; } = new();

    /// <summary>True once the Nth call came and the source was cancelled.</summary>
    public bool Fired => Source.IsCancellationRequested;

    /// <summary>Calls of the counted kind so far.</summary>
    public int Calls => Volatile.Read(ref calls);

    public string Root => inner.Root;

    public bool ConditionalWritesAreAtomic => inner.ConditionalWritesAreAtomic;

    public string Describe(string key) => inner.Describe(key);

    public async IAsyncEnumerable<StoreObject> ListAsync(string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Count(StoreCall.List, cancellationToken);
        await foreach (var item in inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    public async IAsyncEnumerable<string> ListKeysAsync(string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Count(StoreCall.List, cancellationToken);
        await foreach (var key in inner.ListKeysAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return key;
        }
    }

    public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        Count(StoreCall.Read, cancellationToken);
        return inner.GetInfoAsync(key, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        Count(StoreCall.Read, cancellationToken);
        return inner.OpenReadAsync(key, cancellationToken);
    }

    public Task<byte[]> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken = default)
    {
        Count(StoreCall.Read, cancellationToken);
        return inner.ReadAllBytesAsync(key, maxBytes, cancellationToken);
    }

    public Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        Count(StoreCall.Write, cancellationToken);
        return inner.WriteAsync(key, content, cancellationToken);
    }

    public Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        Count(StoreCall.Write, cancellationToken);
        return inner.WriteIfUnchangedAsync(key, content, expectedVersion, cancellationToken);
    }

    public async Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default) =>
        new Staged(this, await inner.CreateStagedAsync(cancellationToken).ConfigureAwait(false));

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Count(StoreCall.Write, cancellationToken);
        return inner.DeleteAsync(key, cancellationToken);
    }

    // The Nth call of the counted kind cancels the source, then throws as a request would that saw its token
    // cancelled mid-way; calls after it see the cancelled token they were given.
    private void Count(StoreCall call, CancellationToken cancellationToken)
    {
        if (call == kind && Interlocked.Increment(ref calls) == nth)
        {
            Source.Cancel();
            throw new OperationCanceledException(Source.Token);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private sealed class Staged(CancellingStore store, IStagedObject inner) : IStagedObject
    {
        public Stream Content => inner.Content;

        public Task CommitAsync(string key, CancellationToken cancellationToken = default)
        {
            store.Count(StoreCall.Write, cancellationToken);
            return inner.CommitAsync(key, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
