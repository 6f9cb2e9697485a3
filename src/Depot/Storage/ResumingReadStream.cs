namespace Depot.Storage;

/// <summary>
/// An object's body that survives a broken connection: when a read fails transiently
/// (<see cref="StoreRetryPolicy.IsTransient"/>), the rest is asked for with a range request from the byte reached,
/// up to the policy's tries in a row (bytes arriving start the count again). A body that cannot be had is one
/// line (<see cref="TransientStoreException"/>). Resuming trusts that the object did not change in between, as
/// content-addressed blobs do not; their readers check the checksum anyway, and small objects that do change (an
/// index) are read whole and read again whole instead (<see cref="RetryingStore.ReadAllBytesAsync"/>).
/// </summary>
internal sealed class ResumingReadStream(IStoreReader store, string key, long start, long? length, Stream body,
    StoreRetryPolicy policy) : Formats.PassThroughReadStream(body)
{
    private long read;
    private int failures;

    public override long Position
    {
        get => read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                var n = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n > 0)
                {
                    failures = 0;
                }

                read += n;
                return n;
            }
            catch (Exception e) when (StoreRetryPolicy.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                await policy.WaitAsync(e, ++failures, store.Describe(key), cancellationToken).ConfigureAwait(false);
                await Inner.DisposeAsync().ConfigureAwait(false);
                Inner = Stream.Null;
                var rest = length - read;
                Inner = await policy.RunAsync(_ => store.OpenReadRangeAsync(key, start + read, rest, cancellationToken),
                    store.Describe(key), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
