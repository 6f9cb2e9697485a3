namespace Depot.Storage;

/// <summary>
/// The pieces every ranged read (<see cref="IStoreReader.OpenReadRangeAsync"/>) shares: argument checks, the answer
/// for an empty range, skipping forward in a stream that cannot seek, and a stream cut at the range's end.
/// </summary>
public static class StoreRange
{
    /// <summary>Refuses a negative offset or length: a caller's mistake, not a store's answer.</summary>
    public static void CheckArguments(long offset, long? length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } n)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(n, nameof(length));
        }
    }

    /// <summary>
    /// The answer when no byte needs fetching (a zero length), or when a store said the range starts past the end:
    /// the object's size decides (<see cref="IStoreReader.GetInfoAsync"/>) between not found, an empty stream
    /// (offset at the end) and <see cref="RangeNotSatisfiableException"/>.
    /// </summary>
    public static async Task<Stream> ResolveEmptyAsync(IStoreReader store, string key, long offset,
        CancellationToken cancellationToken)
    {
        var info = await store.GetInfoAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreObjectNotFoundException(store.Describe(key));
        return offset <= info.Length ? Stream.Null
            : throw new RangeNotSatisfiableException(store.Describe(key), offset, info.Length);
    }

    /// <summary>
    /// Moves <paramref name="stream"/> forward by <paramref name="offset"/> bytes: a seek when it can, else reading
    /// and dropping them through one small buffer (never the whole object).
    /// </summary>
    /// <exception cref="RangeNotSatisfiableException">The stream ends before the offset.</exception>
    public static async Task SkipAsync(Stream stream, long offset, string location,
        CancellationToken cancellationToken)
    {
        if (stream.CanSeek)
        {
            if (offset > stream.Length - stream.Position)
            {
                throw new RangeNotSatisfiableException(location, offset, stream.Length - stream.Position);
            }

            stream.Seek(offset, SeekOrigin.Current);
            return;
        }

        var buffer = new byte[Math.Min(offset, 1 << 16)];
        var skipped = 0L;
        while (skipped < offset)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, offset - skipped)),
                cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new RangeNotSatisfiableException(location, offset, skipped);
            }

            skipped += n;
        }
    }

    /// <summary>
    /// Skips to <paramref name="offset"/> and cuts the stream after <paramref name="length"/> bytes (null: to its
    /// end): a whole object's stream turned into the range's. The stream is disposed on failure, and with the
    /// result.
    /// </summary>
    public static async Task<Stream> SliceAsync(Stream whole, long offset, long? length, string location,
        CancellationToken cancellationToken)
    {
        try
        {
            await SkipAsync(whole, offset, location, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await whole.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return length is { } n ? new LengthLimitedStream(whole, n) : whole;
    }
}

/// <summary>
/// A ranged read that starts past the object's end (HTTP's 416): the server answers with the size it names.
/// </summary>
public sealed class RangeNotSatisfiableException : DepotException
{
    /// <summary>The range at <paramref name="offset"/> of the object at <paramref name="location"/>, which holds
    /// <paramref name="size"/> bytes.</summary>
    public RangeNotSatisfiableException(string location, long offset, long size)
        : base(ErrorKind.Usage, $"{location}: a range from byte {offset} starts past its end ({size} bytes)")
    {
        Location = location;
        Offset = offset;
        Size = size;
    }

    /// <summary>Where the range asked for started.</summary>
    public long Offset { get; }

    /// <summary>The object's path or URL.</summary>
    public string Location { get; }

    /// <summary>The object's size in bytes.</summary>
    public long Size { get; }
}

/// <summary>
/// Reads at most a given number of bytes of an inner stream, then reports its end; disposes the inner stream (and
/// whatever owns it, such as an HTTP response) with itself.
/// </summary>
public sealed class LengthLimitedStream(Stream inner, long limit, IDisposable? owner = null)
    : Formats.ReadOnlyStream
{
    private readonly long limit = limit;
    private long remaining = limit;

    public override long Position
    {
        get => limit - remaining;
        set => throw new NotSupportedException();
    }


    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }

        var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, remaining)]);
        remaining -= n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }

        var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, remaining)], cancellationToken)
            .ConfigureAwait(false);
        remaining -= n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner?.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        owner?.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
