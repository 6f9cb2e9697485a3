using System.Buffers.Binary;
using System.Text.Unicode;

namespace Depot.Archive;

/// <summary>How a file is relocated at install: as a binary, as text, or not at all.</summary>
public enum FileClass
{
    Unknown,
    Binary,
    Text,
}

/// <summary>
/// Classifies one file from its bytes as they stream past, the way Spack 1.x does while it tars a prefix
/// (<c>relocation.md</c> §3): ELF or Mach-O magic in the first 8 bytes makes a binary (always listed); otherwise the
/// file is text if it is valid UTF-8, or failing that has no byte in <c>[\x00\x7f-\x9f]</c>; a text file is listed
/// only if it mentions a prefix to relocate. Files under 8 bytes are never relocated.
/// </summary>
public sealed class FileClassifier
{
    private readonly PrefixMatcher matcher;
    private readonly byte[] head = new byte[8];
    private readonly byte[] utf8Carry = new byte[4];
    private int headLength;
    private int carryLength;
    private bool decided;
    private bool isBinary;
    private bool utf8Valid = true;
    private bool controlBytes;
    private bool mentionsPrefix;
    private PrefixMatcher.Window? window;

    public FileClassifier(PrefixMatcher matcher) => this.matcher = matcher;

    /// <summary>Feeds the next chunk of the file.</summary>
    public void Observe(ReadOnlySpan<byte> chunk)
    {
        if (decided || chunk.IsEmpty)
        {
            return;
        }

        if (headLength < 8)
        {
            var n = Math.Min(8 - headLength, chunk.Length);
            chunk[..n].CopyTo(head.AsSpan(headLength));
            headLength += n;
            if (headLength == 8 && (IsElf(head) || IsMachO(head)))
            {
                isBinary = true;
                decided = true;
                return;
            }
        }

        if (utf8Valid)
        {
            utf8Valid = ValidateUtf8(chunk);
        }

        // Spack falls back to the ISO-8859-1 test (no NUL or C1 control byte anywhere) only when UTF-8 fails.
        controlBytes = controlBytes || HasControlBytes(chunk);
        if (!utf8Valid && controlBytes)
        {
            decided = true;
            return;
        }

        if (!mentionsPrefix && !decided)
        {
            window ??= matcher.NewWindow();
            mentionsPrefix = window.Scan(chunk);
        }
    }

    /// <summary>The verdict once the whole file has been observed.</summary>
    public FileClass Result()
    {
        if (headLength < 8)
        {
            return FileClass.Unknown;
        }

        if (isBinary)
        {
            return FileClass.Binary;
        }

        var text = (utf8Valid && carryLength == 0) || !controlBytes;
        return text ? FileClass.Text : FileClass.Unknown;
    }

    /// <summary>True when the file is text and mentions a prefix (Spack lists exactly these).</summary>
    public bool TextMentionsPrefix => Result() == FileClass.Text && mentionsPrefix;

    public static bool IsElf(ReadOnlySpan<byte> magic) => magic.Length >= 4 && magic[..4].SequenceEqual("\u007fELF"u8);

    public static bool IsMachO(ReadOnlySpan<byte> magic)
    {
        if (magic.Length < 8)
        {
            return false;
        }

        var m = BinaryPrimitives.ReadUInt32BigEndian(magic);
        if (m is 0xcffaedfe or 0xfeedfacf or 0xcefaedfe or 0xfeedface)
        {
            return true;
        }

        // Universal binaries share CAFEBABE with Java class files: there the next word is a version, not an arch count.
        var count = magic.Slice(4, 4);
        return (m == 0xcafebabe && BinaryPrimitives.ReadUInt32BigEndian(count) < 10)
            || (m == 0xbebafeca && BinaryPrimitives.ReadUInt32LittleEndian(count) < 10);
    }

    private static bool HasControlBytes(ReadOnlySpan<byte> chunk) =>
        chunk.IndexOfAnyInRange((byte)0x7f, (byte)0x9f) >= 0 || chunk.IndexOf((byte)0) >= 0;

    // Validates UTF-8 across chunk boundaries: an incomplete sequence at the end of a chunk is carried to the next.
    private bool ValidateUtf8(ReadOnlySpan<byte> chunk)
    {
        if (carryLength > 0)
        {
            var need = SequenceLength(utf8Carry[0]) - carryLength;
            var take = Math.Min(need, chunk.Length);
            Span<byte> joined = stackalloc byte[4];
            utf8Carry.AsSpan(0, carryLength).CopyTo(joined);
            chunk[..take].CopyTo(joined[carryLength..]);
            if (take < need)
            {
                if (!IsValidPrefixOfSequence(joined[..(carryLength + take)]))
                {
                    return false;
                }

                joined[..(carryLength + take)].CopyTo(utf8Carry);
                carryLength += take;
                return true;
            }

            if (!Utf8.IsValid(joined[..(carryLength + take)]))
            {
                return false;
            }

            carryLength = 0;
            chunk = chunk[take..];
        }

        var cut = IncompleteTail(chunk);
        if (!Utf8.IsValid(chunk[..^cut]))
        {
            return false;
        }

        if (cut > 0)
        {
            if (!IsValidPrefixOfSequence(chunk[^cut..]))
            {
                return false;
            }

            chunk[^cut..].CopyTo(utf8Carry);
            carryLength = cut;
        }

        return true;
    }

    private static int SequenceLength(byte lead) => lead switch
    {
        < 0x80 => 1,
        >= 0xc2 and < 0xe0 => 2,
        >= 0xe0 and < 0xf0 => 3,
        >= 0xf0 and < 0xf5 => 4,
        _ => 0,
    };

    // Bytes at the end of the chunk that start a multi-byte sequence the chunk does not complete.
    private static int IncompleteTail(ReadOnlySpan<byte> chunk)
    {
        for (var back = 1; back <= Math.Min(3, chunk.Length); back++)
        {
            var b = chunk[^back];
            if ((b & 0xc0) != 0x80)
            {
                var length = SequenceLength(b);
                return length > back ? back : 0;
            }
        }

        return 0;
    }

    private static bool IsValidPrefixOfSequence(ReadOnlySpan<byte> partial)
    {
        // Complete it with the smallest continuation bytes allowed after this lead; invalid leads/overlongs fail.
        Span<byte> probe = stackalloc byte[4];
        partial.CopyTo(probe);
        var length = SequenceLength(partial[0]);
        if (length == 0)
        {
            return false;
        }

        for (var i = partial.Length; i < length; i++)
        {
            probe[i] = i == 1 ? (byte)(partial[0] switch { 0xe0 => 0xa0, 0xf0 => 0x90, _ => 0x80 }) : (byte)0x80;
        }

        if (partial.Length >= 2 && partial[0] == 0xed && partial[1] >= 0xa0)
        {
            return false;
        }

        return Utf8.IsValid(probe[..length]);
    }
}
