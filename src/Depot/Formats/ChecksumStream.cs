using System.Security.Cryptography;

namespace Depot.Formats;

/// <summary>
/// A write-only pass-through that computes the sha256 and length of everything written, so a tarball is hashed on its
/// way to storage instead of being read back.
/// </summary>
public sealed class ChecksumStream(Stream inner, bool leaveOpen = false) : WriteOnlyStream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long length;

    /// <summary>Called with the running byte count after each write (progress).</summary>
    public Action<long>? Written { get; init; }

    public long BytesWritten => length;

    /// <summary>Lower-case hex sha256 of the bytes written so far.</summary>
    public string Sha256Hex() => Convert.ToHexStringLower(hash.GetCurrentHash());

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        hash.AppendData(buffer);
        inner.Write(buffer);
        length += buffer.Length;
        Written?.Invoke(length);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer,
        CancellationToken cancellationToken = default)
    {
        hash.AppendData(buffer.Span);
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        length += buffer.Length;
        Written?.Invoke(length);
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
            if (!leaveOpen)
            {
                inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
