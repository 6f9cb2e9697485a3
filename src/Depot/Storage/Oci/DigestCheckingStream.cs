using System.Security.Cryptography;

namespace Depot.Storage.Oci;

/// <summary>
/// Reads a blob through, hashing as it goes; at the end of the stream the sha256 and size must be what the descriptor
/// said, else <see cref="InvalidContentException"/> — so no caller ever consumes a blob the registry got wrong.
/// </summary>
internal sealed class DigestCheckingStream(Stream inner, string digest, long? size, string location, IDisposable? owner)
    : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long read;
    private bool checkedAtEnd;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => size ?? throw new NotSupportedException();

    public override long Position { get => read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer[..Allowed(buffer.Length)]);
        return Account(buffer[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..n]);
    }

    // Never asks for more than one byte past the descriptor's size: that byte is enough to refuse the blob.
    private int Allowed(int wanted) =>
        size is { } expected ? (int)Math.Min(wanted, Math.Max(1, expected - read + 1)) : wanted;

    private int Account(ReadOnlySpan<byte> data)
    {
        read += data.Length;
        if (size is { } expected && read > expected)
        {
            throw new InvalidContentException(location,
                $"blob is longer than the {expected} bytes its descriptor says");
        }

        if (data.Length > 0)
        {
            hash.AppendData(data);
        }
        else if (!checkedAtEnd)
        {
            checkedAtEnd = true;
            var actual = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != digest || (size is { } s && s != read))
            {
                throw new InvalidContentException(location,
                    $"blob does not match its digest: expected {digest} "
                    + $"({size?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} bytes), got "
                    + $"{actual} ({read} bytes)");
            }
        }

        return data.Length;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner?.Dispose();
            hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
