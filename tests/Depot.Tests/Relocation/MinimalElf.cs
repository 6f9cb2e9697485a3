using System.Buffers.Binary;
using System.Text;

namespace Depot.Tests.Relocation;

/// <summary>
/// A minimal dynamically linked ELF file as a linker lays it out, in either class and byte order: one PT_LOAD mapping
/// the whole file at <see cref="BaseAddress"/> (so DT_STRTAB is a virtual address to translate), an optional
/// PT_INTERP, and a PT_DYNAMIC holding DT_NEEDED, DT_STRTAB, DT_STRSZ, an optional DT_RPATH or DT_RUNPATH, DT_NULL.
/// </summary>
internal static class MinimalElf
{
    public const ulong BaseAddress = 0x400000;
    public const long DtRpath = 15;
    public const long DtRunpath = 29;

    /// <summary>The bytes, and where (file offset) the interpreter and the path string are.</summary>
    public sealed record Built(byte[] Bytes, int InterpreterOffset, int PathOffset)
    {
        /// <summary>The NUL-terminated string at <paramref name="offset"/>, without its NUL.</summary>
        public string StringAt(int offset) =>
            Encoding.UTF8.GetString(Bytes.AsSpan(offset, Bytes.AsSpan(offset).IndexOf((byte)0)));
    }

    public static Built Create(bool is64, bool littleEndian, string? interpreter, string? path,
        long pathTag = DtRunpath)
    {
        var header = is64 ? 64 : 52;
        var phEntry = is64 ? 56 : 32;
        var phNum = interpreter is null ? 2 : 3;
        var interpOffset = header + (phNum * phEntry);
        var interp = interpreter is null ? [] : Encoding.UTF8.GetBytes(interpreter + "\0");
        var strtabOffset = Align(interpOffset + interp.Length);
        var strtab = Encoding.UTF8.GetBytes("\0libc.so.6\0" + (path ?? "") + "\0");
        const int PathInStrtab = 11;
        var dynOffset = Align(strtabOffset + strtab.Length);
        var dynEntry = is64 ? 16 : 8;
        var dynamic = new List<(long Tag, ulong Value)>
        {
            (1, 1), // DT_NEEDED libc.so.6
            (5, BaseAddress + (ulong)strtabOffset),
            (10, (ulong)strtab.Length),
        };
        if (path is not null)
        {
            dynamic.Add((pathTag, PathInStrtab));
        }

        dynamic.Add((0, 0));
        var length = dynOffset + (dynamic.Count * dynEntry);
        var elf = new byte[length];
        var w = new Writer(elf, littleEndian);

        "\u007fELF"u8.CopyTo(elf);
        elf[4] = (byte)(is64 ? 2 : 1);
        elf[5] = (byte)(littleEndian ? 1 : 2);
        elf[6] = 1;
        w.U16(16, 3); // ET_DYN
        w.U16(18, is64 ? 62 : 3); // x86-64 or i386
        w.U32(20, 1);
        if (is64)
        {
            w.U64(32, (ulong)header); // e_phoff
            w.U16(52, header);
            w.U16(54, phEntry);
            w.U16(56, phNum);
        }
        else
        {
            w.U32(28, (uint)header);
            w.U16(40, header);
            w.U16(42, phEntry);
            w.U16(44, phNum);
        }

        var ph = header;
        ProgramHeader(w, is64, ph, type: 1, offset: 0, (ulong)length);
        ph += phEntry;
        if (interpreter is not null)
        {
            ProgramHeader(w, is64, ph, type: 3, (ulong)interpOffset, (ulong)interp.Length);
            ph += phEntry;
        }

        ProgramHeader(w, is64, ph, type: 2, (ulong)dynOffset, (ulong)(dynamic.Count * dynEntry));
        interp.CopyTo(elf, interpOffset);
        strtab.CopyTo(elf, strtabOffset);
        for (var i = 0; i < dynamic.Count; i++)
        {
            var at = dynOffset + (i * dynEntry);
            if (is64)
            {
                w.U64(at, (ulong)dynamic[i].Tag);
                w.U64(at + 8, dynamic[i].Value);
            }
            else
            {
                w.U32(at, (uint)dynamic[i].Tag);
                w.U32(at + 4, (uint)dynamic[i].Value);
            }
        }

        return new Built(elf, interpreter is null ? -1 : interpOffset, path is null ? -1 : strtabOffset + PathInStrtab);
    }

    private static int Align(int offset) => (offset + 7) & ~7;

    private static void ProgramHeader(Writer w, bool is64, int at, uint type, ulong offset, ulong size)
    {
        w.U32(at, type);
        if (is64)
        {
            w.U64(at + 8, offset);
            w.U64(at + 16, BaseAddress + offset); // p_vaddr
            w.U64(at + 24, BaseAddress + offset); // p_paddr
            w.U64(at + 32, size); // p_filesz
            w.U64(at + 40, size); // p_memsz
        }
        else
        {
            w.U32(at + 4, (uint)offset);
            w.U32(at + 8, (uint)(BaseAddress + offset));
            w.U32(at + 12, (uint)(BaseAddress + offset));
            w.U32(at + 16, (uint)size);
            w.U32(at + 20, (uint)size);
        }
    }

    private readonly struct Writer(byte[] bytes, bool littleEndian)
    {
        public void U16(int at, int value)
        {
            if (littleEndian)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), (ushort)value);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at), (ushort)value);
            }
        }

        public void U32(int at, uint value)
        {
            if (littleEndian)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(at), value);
            }
        }

        public void U64(int at, ulong value)
        {
            if (littleEndian)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
            }
            else
            {
                BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(at), value);
            }
        }
    }
}
