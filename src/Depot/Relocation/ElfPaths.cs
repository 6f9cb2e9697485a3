using System.Buffers.Binary;
using System.Text;

namespace Depot.Relocation;

/// <summary>
/// Rewrites an ELF file's RPATH/RUNPATH and PT_INTERP in place, like Spack 1.x
/// (<c>substitute_rpath_and_pt_interp_in_place_or_raise</c>): each ':'-separated entry that starts with an old
/// prefix gets the new one; the string is written where it was and the rest of the old bytes become NUL. A string
/// that would grow is handed to <c>tooLong</c>, which may supply a shorter equivalent (Depot uses a short alias of
/// the new prefix); otherwise it is reported and left alone. Anything that is not a well-formed ELF file is ignored.
/// </summary>
public static class ElfPaths
{
    private const int PtLoad = 1;
    private const int PtDynamic = 2;
    private const int PtInterp = 3;
    private const long DtNull = 0;
    private const long DtStrtab = 5;
    private const long DtRpath = 15;
    private const long DtRunpath = 29;

    /// <summary>Relocates in place; returns problems (strings left as they were).</summary>
    public static IReadOnlyList<string> RelocateInPlace(Span<byte> file, PrefixMap map, Func<string, string?>? tooLong, out bool modified)
    {
        modified = false;
        var problems = new List<string>();
        if (map.IsEmpty || !Elf.TryRead(file, out var elf))
        {
            return problems;
        }

        foreach (var (offset, length, what) in Strings(file, elf))
        {
            var old = Encoding.UTF8.GetString(file.Slice((int)offset, length));
            var mapped = what == "interpreter" ? map.MapStart(old) ?? old
                : string.Join(':', old.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(e => map.MapStart(e) ?? e));
            if (mapped == old)
            {
                continue;
            }

            if (Encoding.UTF8.GetByteCount(mapped) > length && tooLong?.Invoke(old) is { } shorter)
            {
                mapped = shorter;
            }

            var bytes = Encoding.UTF8.GetBytes(mapped);
            if (bytes.Length > length)
            {
                problems.Add($"{what} '{mapped}' does not fit in the {length} bytes of '{old}'");
                continue;
            }

            var target = file.Slice((int)offset, length);
            target.Clear();
            bytes.CopyTo(target);
            modified = true;
        }

        return problems;
    }

    /// <summary>The file's RPATH/RUNPATH and interpreter strings: (file offset, length without NUL, kind).</summary>
    private static List<(long Offset, int Length, string What)> Strings(ReadOnlySpan<byte> file, Elf elf)
    {
        var result = new List<(long, int, string)>();
        long dynamicOffset = -1, dynamicSize = 0;
        var loads = new List<(ulong Vaddr, ulong Offset, ulong Size)>();
        for (var i = 0; i < elf.PhNum; i++)
        {
            var ph = elf.PhOff + (i * elf.PhEntSize);
            if (ph + elf.PhEntSize > file.Length)
            {
                return result;
            }

            var type = elf.U32(file, ph);
            var (offset, vaddr, filesz) = elf.Is64
                ? (elf.U64(file, ph + 8), elf.U64(file, ph + 16), elf.U64(file, ph + 32))
                : (elf.U32(file, ph + 4), elf.U32(file, ph + 8), elf.U32(file, ph + 16));
            switch (type)
            {
                case PtLoad:
                    loads.Add((vaddr, offset, filesz));
                    break;
                case PtDynamic:
                    dynamicOffset = (long)offset;
                    dynamicSize = (long)filesz;
                    break;
                case PtInterp when offset + filesz <= (ulong)file.Length && filesz > 0:
                    var interp = file.Slice((int)offset, (int)filesz);
                    var nul = interp.IndexOf((byte)0);
                    result.Add(((long)offset, nul < 0 ? interp.Length : nul, "interpreter"));
                    break;
            }
        }

        if (dynamicOffset < 0 || dynamicOffset + dynamicSize > file.Length)
        {
            return result;
        }

        ulong strtab = 0;
        var paths = new List<(ulong Value, string What)>();
        var entry = elf.Is64 ? 16 : 8;
        for (var at = dynamicOffset; at + entry <= dynamicOffset + dynamicSize; at += entry)
        {
            var tag = elf.Is64 ? (long)elf.U64(file, at) : elf.U32(file, at);
            var value = elf.Is64 ? elf.U64(file, at + 8) : elf.U32(file, at + 4);
            if (tag == DtNull)
            {
                break;
            }

            if (tag == DtStrtab)
            {
                strtab = value;
            }
            else if (tag is DtRpath or DtRunpath)
            {
                paths.Add((value, tag == DtRpath ? "RPATH" : "RUNPATH"));
            }
        }

        var load = loads.FirstOrDefault(l => strtab >= l.Vaddr && strtab < l.Vaddr + l.Size);
        if (paths.Count == 0 || load == default)
        {
            return result;
        }

        foreach (var (value, what) in paths)
        {
            var offset = (long)(load.Offset + (strtab - load.Vaddr) + value);
            if (offset < 0 || offset >= file.Length)
            {
                continue;
            }

            var nul = file[(int)offset..].IndexOf((byte)0);
            result.Add((offset, nul < 0 ? file.Length - (int)offset : nul, what));
        }

        return result;
    }

    private readonly record struct Elf(bool Is64, bool LittleEndian, long PhOff, int PhEntSize, int PhNum)
    {
        public static bool TryRead(ReadOnlySpan<byte> file, out Elf elf)
        {
            elf = default;
            if (file.Length < 52 || !file[..4].SequenceEqual("\u007fELF"u8) || file[4] is not (1 or 2) || file[5] is not (1 or 2))
            {
                return false;
            }

            var is64 = file[4] == 2;
            var le = file[5] == 1;
            var probe = new Elf(is64, le, 0, 0, 0);
            if (is64 && file.Length < 64)
            {
                return false;
            }

            var phoff = is64 ? (long)probe.U64(file, 32) : probe.U32(file, 28);
            var phentsize = probe.U16(file, is64 ? 54 : 42);
            var phnum = probe.U16(file, is64 ? 56 : 44);
            if (phoff <= 0 || phentsize < (is64 ? 56 : 32) || phoff + ((long)phentsize * phnum) > file.Length)
            {
                return false;
            }

            elf = new Elf(is64, le, phoff, phentsize, phnum);
            return true;
        }

        public int U16(ReadOnlySpan<byte> b, long at) =>
            LittleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(b[(int)at..]) : BinaryPrimitives.ReadUInt16BigEndian(b[(int)at..]);

        public uint U32(ReadOnlySpan<byte> b, long at) =>
            LittleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(b[(int)at..]) : BinaryPrimitives.ReadUInt32BigEndian(b[(int)at..]);

        public ulong U64(ReadOnlySpan<byte> b, long at) =>
            LittleEndian ? BinaryPrimitives.ReadUInt64LittleEndian(b[(int)at..]) : BinaryPrimitives.ReadUInt64BigEndian(b[(int)at..]);
    }
}
