using System.Runtime.CompilerServices;

namespace Depot.Storage.Faults;

/// <summary>
/// A full store that makes another fail the way network stores do, as a <see cref="FaultPlan"/> draws: requests
/// throttled (S3 <c>SlowDown</c>, HTTP 429 with <c>Retry-After</c>), refused (HTTP 500) or timed out; bodies reset,
/// cut short or slowed mid-stream; listings broken mid-way; uploads reset mid-way; writes that land but whose answer
/// is lost. Request faults are <see cref="TransientStoreException"/>s, as a store without a retry policy of its own
/// reports them; body faults are the <see cref="IOException"/>s .NET's HTTP stack throws. For tests and benches only:
/// opened under <c>DEPOT_FAULTS</c> (<see cref="FaultPlan.Variable"/>), inside a <see cref="RetryingStore"/>.
/// </summary>
public sealed class FaultInjectingStore(IObjectStore inner, FaultPlan plan) : IObjectStore, IStoreTemporaries
{
    private const FaultKinds RequestFaults = FaultKinds.Throttle | FaultKinds.ServerError | FaultKinds.Timeout;

    private const FaultKinds BodyFaults = FaultKinds.Reset | FaultKinds.Truncate | FaultKinds.SilentTruncate
        | FaultKinds.Slow | FaultKinds.Timeout;

    /// <summary>The store faults are injected in front of.</summary>
    public IObjectStore Inner { get; } = inner;

    /// <summary>What is injected.</summary>
    public FaultPlan Plan { get; } = plan;

    public string Root => Inner.Root;

    public bool ConditionalWritesAreAtomic => Inner.ConditionalWritesAreAtomic;

    public string Describe(string key) => Inner.Describe(key);

    public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        Request(key);
        return Inner.GetInfoAsync(key, cancellationToken);
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var kind = Request(key, BodyFaults);
        return Body(await Inner.OpenReadAsync(key, cancellationToken).ConfigureAwait(false), kind);
    }

    public async Task<Stream> OpenReadRangeAsync(string key, long offset, long? length,
        CancellationToken cancellationToken = default)
    {
        var kind = Request(key, BodyFaults);
        return Body(await Inner.OpenReadRangeAsync(key, offset, length, cancellationToken).ConfigureAwait(false),
            kind);
    }

    /// <summary>
    /// The inner store's own whole read (with its own checks: S3's against torn reads), whose body then breaks, ends
    /// early or arrives late as a streamed one would.
    /// </summary>
    public async Task<byte[]> ReadAllBytesAsync(string key, long maxBytes,
        CancellationToken cancellationToken = default)
    {
        var kind = Request(key, BodyFaults);
        var bytes = await Inner.ReadAllBytesAsync(key, maxBytes, cancellationToken).ConfigureAwait(false);
        if (kind == FaultKinds.None)
        {
            return bytes;
        }

        await using var body = new FaultingReadStream(new MemoryStream(bytes, writable: false), kind,
            Plan.Next(16 << 10), Plan);
        return await ObjectStoreExtensions.ReadBoundedAsync(body, Describe(key), maxBytes, cancellationToken)
            .ConfigureAwait(false);
    }

    public IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        Listing(prefix, Inner.ListAsync(prefix, cancellationToken), cancellationToken);

    public IAsyncEnumerable<string> ListKeysAsync(string prefix, CancellationToken cancellationToken = default) =>
        Listing(prefix, Inner.ListKeysAsync(prefix, cancellationToken), cancellationToken);

    public async Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var (upload, kind) = Upload(key, content);
        try
        {
            await Inner.WriteAsync(key, upload, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (upload is BreakingStream { Broke: true })
        {
            throw Reset(key, e);
        }

        Answer(key, kind);
    }

    public async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var (upload, kind) = Upload(key, content);
        bool written;
        try
        {
            written = await Inner.WriteIfUnchangedAsync(key, upload, expectedVersion, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (upload is BreakingStream { Broke: true })
        {
            throw Reset(key, e);
        }

        if (written)
        {
            Answer(key, kind);
        }

        return written;
    }

    public async Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default)
    {
        Request(Root);
        return new FaultingStagedObject(await Inner.CreateStagedAsync(cancellationToken).ConfigureAwait(false), this);
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Request(key);
        return Inner.DeleteAsync(key, cancellationToken);
    }

    /// <summary>The inner store's temporaries, unfaulted (prune's sweep is not what is tested here).</summary>
    public IAsyncEnumerable<StoreObject> ListTemporaryAsync(CancellationToken cancellationToken = default) =>
        Inner is IStoreTemporaries temporaries ? temporaries.ListTemporaryAsync(cancellationToken)
            : AsyncEnumerable.Empty<StoreObject>();

    // One draw per request, among the request faults and the call's own (a body's, an upload's), so a request fails
    // at the plan's rate however many kinds apply to it. A request fault is thrown here; the call's own kind is
    // returned for it to apply (a timeout is the request's or the body's, evenly). None: no fault.
    private FaultKinds Request(string key, FaultKinds own = FaultKinds.None)
    {
        var location = Describe(key);
        var kind = Plan.Draw(RequestFaults | own);
        switch (kind)
        {
            case FaultKinds.Timeout when (own & FaultKinds.Timeout) != 0 && Plan.Next(2) == 0:
                return kind;
            case FaultKinds.Throttle when Plan.Next(2) == 0:
                throw Injected(location, "HTTP 503 Slow Down (SlowDown: Please reduce your request rate.)",
                    Plan.NextWait());
            case FaultKinds.Throttle:
                throw Injected(location, "HTTP 429 Too Many Requests", Plan.NextWait());
            case FaultKinds.ServerError:
                throw Injected(location, "HTTP 500 Internal Server Error (InternalError: We encountered an internal "
                    + "error. Please try again.)");
            case FaultKinds.Timeout:
                throw Injected(location, "the request timed out", inner: new TimeoutException());
            default:
                return kind;
        }
    }

    // A write that landed but whose answer is lost, when that was drawn.
    private void Answer(string key, FaultKinds kind)
    {
        if (kind == FaultKinds.LostResponse)
        {
            throw Injected(Describe(key), "the connection was reset before the answer arrived (the write may have "
                + "landed)");
        }
    }

    // The content as the store gets it: whole, or breaking part-way (a reset mid-upload); or a refused request; and
    // what was drawn. Content that cannot be rewound is not faulted: no store could send it again, and the engine
    // uploads none (its writes are documents in memory, files and staged objects); its own failures reach the caller
    // as they are.
    private (Stream Upload, FaultKinds Kind) Upload(string key, Stream content)
    {
        if (!content.CanSeek)
        {
            return (content, FaultKinds.None);
        }

        var kind = Request(key, FaultKinds.Reset | FaultKinds.LostResponse);
        return (kind == FaultKinds.Reset ? new BreakingStream(content, Plan.Next(64 << 10)) : content, kind);
    }

    private TransientStoreException Reset(string key, Exception cause) =>
        Injected(Describe(key), "the connection was reset while uploading", inner: cause);

    private Stream Body(Stream body, FaultKinds kind) =>
        kind == FaultKinds.None ? body : new FaultingReadStream(body, kind, Plan.Next(16 << 10), Plan);

    private async IAsyncEnumerable<T> Listing<T>(string prefix, IAsyncEnumerable<T> items,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var breakAt = Request(prefix, FaultKinds.Reset) == FaultKinds.Reset ? Plan.Next(50) : -1;
        var given = 0;
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (given++ == breakAt)
            {
                throw FaultingReadStream.ConnectionReset();
            }

            yield return item;
        }
    }

    private static TransientStoreException Injected(string location, string reason, TimeSpan? retryAfter = null,
        Exception? inner = null) =>
        new(location, $"{reason} (injected by {FaultPlan.Variable})", retryAfter, inner);

    private sealed class FaultingStagedObject(IStagedObject inner, FaultInjectingStore store) : IStagedObject
    {
        public Stream Content => inner.Content;

        // Faults come before the commit only: a commit that landed cannot be made twice by every store (a rename).
        public Task CommitAsync(string key, CancellationToken cancellationToken = default)
        {
            store.Request(key);
            return inner.CommitAsync(key, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
