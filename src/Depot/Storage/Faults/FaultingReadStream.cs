using System.Net.Sockets;

namespace Depot.Storage.Faults;

/// <summary>
/// A body that fails at byte <c>at</c> the way one arriving over HTTP does: reset (a socket error), ended early (the
/// response ended prematurely), timed out, or ended early without error (<see cref="FaultKinds.SilentTruncate"/>);
/// or that arrives slowly, in small delayed pieces, and whole.
/// </summary>
internal sealed class FaultingReadStream(Stream inner, FaultKinds kind, long at, FaultPlan plan)
    : Formats.PassThroughReadStream(inner)
{
    private long position;

    public override long Position
    {
        get => position;
        set => throw new NotSupportedException();
    }

    /// <summary>What .NET throws when the peer resets a connection mid-body.</summary>
    public static IOException ConnectionReset() => new(
        $"Unable to read data from the transport connection: Connection reset by peer. (injected by "
        + $"{FaultPlan.Variable})", new SocketException((int)SocketError.ConnectionReset));

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (kind == FaultKinds.Slow)
        {
            await Task.Delay(plan.NextWait() / 4, cancellationToken).ConfigureAwait(false);
            buffer = buffer[..Math.Min(buffer.Length, 4096)];
        }
        else if (position >= at)
        {
            return kind switch
            {
                FaultKinds.SilentTruncate => 0,
                FaultKinds.Truncate => throw new System.Net.Http.HttpIOException(
                    System.Net.Http.HttpRequestError.ResponseEnded,
                    $"The response ended prematurely. (injected by {FaultPlan.Variable})"),
                FaultKinds.Timeout => throw new IOException($"The body stalled and timed out. (injected by "
                    + $"{FaultPlan.Variable})", new TimeoutException()),
                _ => throw ConnectionReset(),
            };
        }
        else
        {
            buffer = buffer[..(int)Math.Min(buffer.Length, at - position)];
        }

        var read = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        position += read;
        return read;
    }
}

/// <summary>Content being uploaded when the connection resets at byte <c>at</c>: reads fail from there on. Its length
/// and position are the content's (an S3 client sizes the request by them).</summary>
internal sealed class BreakingStream : Stream
{
    private readonly Stream content;
    private readonly long start;
    private readonly long at;

    public BreakingStream(Stream content, long at)
    {
        this.content = content;
        this.at = at;
        start = content.Position;
    }

    /// <summary>True once a read failed: the store's error is the injected reset.</summary>
    public bool Broke { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => content.CanSeek;

    public override bool CanWrite => false;

    public override long Length => content.Length;

    public override long Position
    {
        get => content.Position;
        set => content.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var sent = content.Position - start;
        if (sent >= at)
        {
            Broke = true;
            throw FaultingReadStream.ConnectionReset();
        }

        return await content.ReadAsync(buffer[..(int)Math.Min(buffer.Length, at - sent)], cancellationToken)
            .ConfigureAwait(false);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => content.Seek(offset, origin);

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
