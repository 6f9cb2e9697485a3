using System.Buffers;
using System.Globalization;
using System.Text;

namespace Depot.Archive;

/// <summary>
/// Writes a tar stream in the exact dialect of Python's <c>tarfile</c> with <c>PAX_FORMAT</c>, which is what Spack
/// uses for binary package tarballs: ustar headers, a <c>././@PaxHeader</c> extended header only for names or link
/// names over 100 characters (or not ASCII), uid/gid 0, empty owner names, mtime 0, two zero blocks at the end and
/// padding to 10240-byte records. System.Formats.Tar writes valid PAX too, but always adds time records and names its
/// extended headers differently; matching Python byte for byte keeps the uncompressed tarball identical to the one
/// Spack would make of the same prefix.
/// </summary>
public sealed class PythonTarWriter : IAsyncDisposable
{
    private const int BlockSize = 512;
    private const int RecordSize = 10240;
    private static readonly byte[] ZeroBlock = new byte[BlockSize];

    private readonly Stream output;
    private readonly bool leaveOpen;
    private readonly byte[] header = new byte[BlockSize];
    private long offset;
    private bool closed;

    public PythonTarWriter(Stream output, bool leaveOpen = false)
    {
        this.output = output;
        this.leaveOpen = leaveOpen;
    }

    /// <summary>Bytes of tar written so far (headers, content and padding).</summary>
    public long Position => offset;

    /// <summary>Adds a directory entry (Python appends the '/' to directory names), mode 0755.</summary>
    public Task AddDirectoryAsync(string name, CancellationToken cancellationToken = default) =>
        WriteHeaderAsync(name.EndsWith('/') ? name : name + "/", (byte)'5', 0x1ed, 0, "", cancellationToken);

    public Task AddSymlinkAsync(string name, string target, CancellationToken cancellationToken = default) =>
        WriteHeaderAsync(name, (byte)'2', 0x1ed, 0, target, cancellationToken);

    /// <summary>A second name for an inode already in the archive: <paramref name="target"/> is the first member's
    /// name.</summary>
    public Task AddHardLinkAsync(string name, string target, int mode, CancellationToken cancellationToken = default) =>
        WriteHeaderAsync(name, (byte)'1', mode, 0, target, cancellationToken);

    /// <summary>
    /// Adds a regular file of exactly <paramref name="size"/> bytes read from <paramref name="content"/>. Each chunk
    /// read is passed to <paramref name="observe"/> before it is written (classification scans the bytes on the way).
    /// </summary>
    /// <exception cref="IOException">The content is shorter or longer than announced (the file changed while
    /// read).</exception>
    public async Task AddFileAsync(string name, int mode, long size, Stream content,
        Action<ReadOnlyMemory<byte>>? observe = null, CancellationToken cancellationToken = default)
    {
        await WriteHeaderAsync(name, (byte)'0', mode, size, "", cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var remaining = size;
            while (remaining > 0)
            {
                var read = await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)),
                    cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"{name}: file shrank while it was archived");
                }

                observe?.Invoke(buffer.AsMemory(0, read));
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                remaining -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        offset += size;
        await PadAsync(size, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds a regular file with in-memory content.</summary>
    public async Task AddFileAsync(string name, int mode, ReadOnlyMemory<byte> content,
        CancellationToken cancellationToken = default)
    {
        await WriteHeaderAsync(name, (byte)'0', mode, content.Length, "", cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        offset += content.Length;
        await PadAsync(content.Length, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the archive: two zero blocks, then zeros up to a whole 10240-byte record (Python's
    /// close()).</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (closed)
        {
            return;
        }

        closed = true;
        await output.WriteAsync(ZeroBlock, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(ZeroBlock, cancellationToken).ConfigureAwait(false);
        offset += 2 * BlockSize;
        var remainder = (int)(offset % RecordSize);
        if (remainder > 0)
        {
            await output.WriteAsync(new byte[RecordSize - remainder], cancellationToken).ConfigureAwait(false);
            offset += RecordSize - remainder;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!leaveOpen)
        {
            await output.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task WriteHeaderAsync(string name, byte type, int mode, long size, string linkName,
        CancellationToken cancellationToken)
    {
        // Python's create_pax_header: a field that is too long or not ASCII goes into a pax record (path first,
        // then linkpath); the ustar field then holds the name cut to its length with non-ASCII replaced by '?'.
        List<(string Key, string Value)>? pax = null;
        if (name.Length > 100 || !Ascii.IsValid(name))
        {
            (pax ??= []).Add(("path", name));
        }

        if (linkName.Length > 100 || !Ascii.IsValid(linkName))
        {
            (pax ??= []).Add(("linkpath", linkName));
        }

        if (size >= 1L << 33)
        {
            (pax ??= []).Add(("size", size.ToString(CultureInfo.InvariantCulture)));
        }

        if (pax is not null)
        {
            var records = PaxRecords(pax);
            FillHeader("././@PaxHeader", (byte)'x', 0, records.Length, "");
            await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(records, cancellationToken).ConfigureAwait(false);
            offset += BlockSize + records.Length;
            await PadAsync(records.Length, cancellationToken).ConfigureAwait(false);
        }

        FillHeader(name, type, mode, size >= 1L << 33 ? 0 : size, linkName);
        await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        offset += BlockSize;
    }

    private void FillHeader(string name, byte type, int mode, long size, string linkName)
    {
        var h = header.AsSpan();
        h.Clear();
        PutString(h[..100], name);
        PutOctal(h.Slice(100, 8), mode & 0xfff);
        PutOctal(h.Slice(108, 8), 0);
        PutOctal(h.Slice(116, 8), 0);
        PutOctal(h.Slice(124, 12), size);
        PutOctal(h.Slice(136, 12), 0);
        h.Slice(148, 8).Fill((byte)' ');
        h[156] = type;
        PutString(h.Slice(157, 100), linkName);
        "ustar\000"u8.CopyTo(h.Slice(257, 8));
        var checksum = 0;
        foreach (var b in h)
        {
            checksum += b;
        }

        // "%06o\0" then the checksum field's last space stays, as Python writes it.
        Encoding.ASCII.GetBytes(Convert.ToString(checksum, 8).PadLeft(6, '0'), h.Slice(148, 6));
        h[154] = 0;
    }

    private static void PutString(Span<byte> field, string value)
    {
        var n = Math.Min(field.Length, value.Length);
        for (var i = 0; i < n; i++)
        {
            field[i] = value[i] < 128 ? (byte)value[i] : (byte)'?';
        }
    }

    private static void PutOctal(Span<byte> field, long value)
    {
        var text = Convert.ToString(value, 8).PadLeft(field.Length - 1, '0');
        Encoding.ASCII.GetBytes(text, field);
        field[^1] = 0;
    }

    // "%d %s=%s\n" where the leading length counts itself (Python's _create_pax_generic_header).
    private static byte[] PaxRecords(List<(string Key, string Value)> records)
    {
        var result = new List<byte>();
        foreach (var (key, value) in records)
        {
            var body = Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value) + 3;
            int length = 0, previous = 0;
            while (true)
            {
                length = body + previous.ToString(CultureInfo.InvariantCulture).Length;
                if (length == previous)
                {
                    break;
                }

                previous = length;
            }

            result.AddRange(Encoding.UTF8.GetBytes($"{length.ToString(CultureInfo.InvariantCulture)} {key}={value}\n"));
        }

        return result.ToArray();
    }

    private async Task PadAsync(long written, CancellationToken cancellationToken)
    {
        var remainder = (int)(written % BlockSize);
        if (remainder > 0)
        {
            await output.WriteAsync(ZeroBlock.AsMemory(0, BlockSize - remainder), cancellationToken)
                .ConfigureAwait(false);
            offset += BlockSize - remainder;
        }
    }
}
