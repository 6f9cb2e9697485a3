using System.Runtime.CompilerServices;

namespace Depot.Storage;

/// <summary>
/// A full store whose requests are made again when they fail transiently (<see cref="StoreRetryPolicy"/>): reads,
/// listings, writes whose content can be rewound, staged commits and deletes. A read that breaks mid-stream resumes
/// where it stopped with a range request (<see cref="ResumingReadStream"/>); a listing that breaks is listed again,
/// keys already given skipped. Stores whose clients retry their own requests (S3, Azure, HTTP, registries) throw
/// nothing this retries but broken bodies; a store without a policy of its own gets one here. Wrapped around every
/// store opened under <c>DEPOT_FAULTS</c> (<see cref="Faults.FaultInjectingStore"/>).
/// </summary>
public sealed class RetryingStore(IObjectStore inner, StoreRetryPolicy? policy = null)
    : IObjectStore, IStoreTemporaries
{
    private readonly StoreRetryPolicy policy = policy ?? StoreRetryPolicy.Default;

    /// <summary>The store requests go to.</summary>
    public IObjectStore Inner { get; } = inner;

    public string Root => Inner.Root;

    public bool ConditionalWritesAreAtomic => Inner.ConditionalWritesAreAtomic;

    public string Describe(string key) => Inner.Describe(key);

    public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
        policy.RunAsync(_ => Inner.GetInfoAsync(key, cancellationToken), Describe(key), cancellationToken);

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var body = await policy.RunAsync(_ => Inner.OpenReadAsync(key, cancellationToken), Describe(key),
            cancellationToken).ConfigureAwait(false);
        return new ResumingReadStream(Inner, key, 0, null, body, policy);
    }

    public async Task<Stream> OpenReadRangeAsync(string key, long offset, long? length,
        CancellationToken cancellationToken = default)
    {
        var body = await policy.RunAsync(_ => Inner.OpenReadRangeAsync(key, offset, length, cancellationToken),
            Describe(key), cancellationToken).ConfigureAwait(false);
        return new ResumingReadStream(Inner, key, offset, length, body, policy);
    }

    /// <summary>A small object is read again whole when its read breaks: it may be one that changes (an
    /// index).</summary>
    public Task<byte[]> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken = default) =>
        policy.RunAsync(_ => Inner.ReadAllBytesAsync(key, maxBytes, cancellationToken), Describe(key),
            cancellationToken);

    public IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        ListAgainAsync(prefix, p => Inner.ListAsync(p, cancellationToken), o => o.Key, cancellationToken);

    public IAsyncEnumerable<string> ListKeysAsync(string prefix, CancellationToken cancellationToken = default) =>
        ListAgainAsync(prefix, p => Inner.ListKeysAsync(p, cancellationToken), k => k, cancellationToken);

    /// <summary>Retried when the content can be rewound; a stream that cannot is sent once.</summary>
    public Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanSeek)
        {
            return Inner.WriteAsync(key, content, cancellationToken);
        }

        var start = content.Position;
        return policy.RunAsync(_ =>
        {
            content.Position = start;
            return Inner.WriteAsync(key, content, cancellationToken);
        }, Describe(key), cancellationToken);
    }

    /// <summary>
    /// Retried when the content can be rewound. A try that failed may still have written (the answer was lost): when a
    /// later try then finds the object changed, and changed to exactly this content, the write was ours.
    /// </summary>
    public Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanSeek)
        {
            return Inner.WriteIfUnchangedAsync(key, content, expectedVersion, cancellationToken);
        }

        var start = content.Position;
        return policy.RunAsync(async attempt =>
        {
            content.Position = start;
            if (await Inner.WriteIfUnchangedAsync(key, content, expectedVersion, cancellationToken)
                .ConfigureAwait(false))
            {
                return true;
            }

            return attempt > 1 && await HoldsAsync(key, content, start, cancellationToken).ConfigureAwait(false);
        }, Describe(key), cancellationToken);
    }

    public async Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default) =>
        new RetryingStagedObject(await policy.RunAsync(_ => Inner.CreateStagedAsync(cancellationToken), Root,
            cancellationToken).ConfigureAwait(false), this);

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        policy.RunAsync(_ => Inner.DeleteAsync(key, cancellationToken), Describe(key), cancellationToken);

    /// <summary>The inner store's temporaries; none when it stages outside the mirror.</summary>
    public IAsyncEnumerable<StoreObject> ListTemporaryAsync(CancellationToken cancellationToken = default) =>
        Inner is IStoreTemporaries temporaries ? temporaries.ListTemporaryAsync(cancellationToken)
            : AsyncEnumerable.Empty<StoreObject>();

    // Lists, and lists again when the listing breaks, giving each key once.
    private async IAsyncEnumerable<T> ListAgainAsync<T>(string prefix, Func<string, IAsyncEnumerable<T>> list,
        Func<T, string> keyOf, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var given = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 1; ; attempt++)
        {
            var items = list(prefix).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    T item;
                    try
                    {
                        if (!await items.MoveNextAsync().ConfigureAwait(false))
                        {
                            yield break;
                        }

                        item = items.Current;
                    }
                    catch (Exception e) when (StoreRetryPolicy.IsTransient(e)
                        && !cancellationToken.IsCancellationRequested)
                    {
                        await policy.WaitAsync(e, attempt, Describe(prefix), cancellationToken).ConfigureAwait(false);
                        break;
                    }

                    if (given.Add(keyOf(item)))
                    {
                        yield return item;
                    }
                }
            }
            finally
            {
                await items.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // Whether the object at key now holds exactly the content from start; false when that cannot be told.
    private async Task<bool> HoldsAsync(string key, Stream content, long start, CancellationToken cancellationToken)
    {
        var length = content.Length - start;
        var now = await Inner.GetInfoAsync(key, cancellationToken).ConfigureAwait(false);
        if (now is null || now.Length != length || length > 64 << 20)
        {
            return false;
        }

        byte[] held;
        try
        {
            held = await Inner.ReadAllBytesAsync(key, length, cancellationToken).ConfigureAwait(false);
        }
        catch (DepotException e) when (e is not TransientStoreException)
        {
            // Cannot tell (gone again, or unreadable while another writer replaces it): not ours, so the caller
            // redoes its update, which is safe, where taking a write for ours could lose another's.
            return false;
        }

        var mine = new byte[length];
        content.Position = start;
        await content.ReadExactlyAsync(mine, cancellationToken).ConfigureAwait(false);
        return held.AsSpan().SequenceEqual(mine);
    }

    private sealed class RetryingStagedObject(IStagedObject inner, RetryingStore store) : IStagedObject
    {
        public Stream Content => inner.Content;

        public Task CommitAsync(string key, CancellationToken cancellationToken = default) =>
            store.policy.RunAsync(_ => inner.CommitAsync(key, cancellationToken), store.Describe(key),
                cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
