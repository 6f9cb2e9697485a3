using System.Buffers.Binary;
using System.Text;

namespace Depot.Relocation;

/// <summary>
/// Rewrites an ELF file's RPATH/RUNPATH and PT_INTERP in place, like Spack 1.x
/// (<c>substitute_rpath_and_pt_interp_in_place_or_raise</c>): each ':'-separated entry that starts with an old
/// prefix gets the new one; the string is written where it was and the rest of the old bytes become NUL. A string
/// that would grow is handed to <c>tooLong</c>, which may supply a shorter equivalent (Depot uses a short alias of
/// the new prefix); otherwise it is reported and left alone. A file that is not ELF is left alone; an ELF file whose
/// headers point outside it is refused (<see cref="InvalidContentException"/>), never read out of bounds.
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

    /// <summary>
    /// Relocates in place; returns problems (strings left as they were). <paramref name="location"/> names the file in
    /// the message when its headers are inconsistent.
    /// </summary>
    /// <exception cref="InvalidContentException">An ELF file whose headers point outside it (a crafted or damaged
    /// file).</exception>
    public static IReadOnlyList<string> RelocateInPlace(Span<byte> file, PrefixMap map, Func<string, string?>? tooLong,
        out bool modified, string location = "ELF file")
    {
        modified = false;
        var problems = new List<string>();
        if (map.IsEmpty || !Elf.TryRead(file, location, out var elf))
        {
            return problems;
        }

        foreach (var (offset, length, what) in Strings(file, elf, location))
        {
            var old = Encoding.UTF8.GetString(file.Slice(offset, length));
            var mapped = what == "interpreter" ? map.MapStart(old) ?? old
                : string.Join(':',
                    old.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(e => map.MapStart(e) ?? e));
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

            var target = file.Slice(offset, length);
            target.Clear();
            bytes.CopyTo(target);
            modified = true;
        }

        return problems;
    }

    // Every offset and size in an ELF file is the file's claim: each range is checked as (offset, size) against the
    // length without ever computing offset + size, which a crafted value near 2^64 would wrap.
    private static bool Within(ulong offset, ulong size, int fileLength) =>
        offset <= (ulong)fileLength && size <= (ulong)fileLength - offset;

    private static InvalidContentException Malformed(string location, string problem) =>
        new(location, "malformed ELF file: " + problem);

    /// <summary>The file's RPATH/RUNPATH and interpreter strings: (file offset, length without NUL, kind).</summary>
    private static List<(int Offset, int Length, string What)> Strings(ReadOnlySpan<byte> file, Elf elf,
        string location)
    {
        var result = new List<(int, int, string)>();
        int dynamicOffset = -1, dynamicSize = 0;
        var loads = new List<(ulong Vaddr, ulong Offset, ulong Size)>();
        for (var i = 0; i < elf.PhNum; i++)
        {
            var ph = elf.PhOff + (i * elf.PhEntSize); // inside the file: TryRead checked the whole table
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
                    if (!Within(offset, filesz, file.Length))
                    {
                        throw Malformed(location,
                            $"its dynamic section ({filesz} bytes at offset {offset}) lies outside the file's "
                            + $"{file.Length} bytes");
                    }

                    (dynamicOffset, dynamicSize) = ((int)offset, (int)filesz);
                    break;
                case PtInterp when filesz > 0:
                    if (!Within(offset, filesz, file.Length))
                    {
                        throw Malformed(location,
                            $"its interpreter ({filesz} bytes at offset {offset}) lies outside the file's "
                            + $"{file.Length} bytes");
                    }

                    var interp = file.Slice((int)offset, (int)filesz);
                    var nul = interp.IndexOf((byte)0);
                    result.Add(((int)offset, nul < 0 ? interp.Length : nul, "interpreter"));
                    break;
            }
        }

        if (dynamicOffset < 0)
        {
            return result;
        }

        ulong strtab = 0;
        var paths = new List<(ulong Value, string What)>();
        var entry = elf.Is64 ? 16 : 8;
        for (var at = dynamicOffset; at <= dynamicOffset + dynamicSize - entry; at += entry)
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

        var load = loads.FirstOrDefault(l => strtab >= l.Vaddr && strtab - l.Vaddr < l.Size);
        if (paths.Count == 0 || load == default)
        {
            return result;
        }

        foreach (var (value, what) in paths)
        {
            // strtab's file offset is inside its segment's file bytes; the string's is value past it.
            if (!Within(load.Offset, strtab - load.Vaddr, file.Length)
                || !Within(load.Offset + (strtab - load.Vaddr), value, file.Length - 1))
            {
                throw Malformed(location,
                    $"its {what} string (offset {value} into the string table) lies outside the file's {file.Length} "
                    + "bytes");
            }

            var offset = (int)(load.Offset + (strtab - load.Vaddr) + value);
            var nul = file[offset..].IndexOf((byte)0);
            result.Add((offset, nul < 0 ? file.Length - offset : nul, what));
        }

        return result;
    }

    private readonly record struct Elf(bool Is64, bool LittleEndian, int PhOff, int PhEntSize, int PhNum)
    {
        /// <summary>False when the bytes are not ELF at all (nothing to do); throws when they are, but
        /// inconsistent.</summary>
        public static bool TryRead(ReadOnlySpan<byte> file, string location, out Elf elf)
        {
            elf = default;
            if (file.Length < 52 || !file[..4].SequenceEqual("\u007fELF"u8) || file[4] is not (1 or 2)
                || file[5] is not (1 or 2))
            {
                return false;
            }

            var is64 = file[4] == 2;
            var le = file[5] == 1;
            var probe = new Elf(is64, le, 0, 0, 0);
            if (is64 && file.Length < 64)
            {
                throw Malformed(location, $"a 64-bit header needs 64 bytes; the file has {file.Length}");
            }

            var phoff = is64 ? probe.U64(file, 32) : probe.U32(file, 28);
            var phentsize = probe.U16(file, is64 ? 54 : 42);
            var phnum = probe.U16(file, is64 ? 56 : 44);
            if (phnum == 0)
            {
                return false; // no program headers (an object file): no RPATH, no interpreter
            }

            if (phentsize < (is64 ? 56 : 32) || phoff == 0
                || !Within(phoff, (ulong)phentsize * (ulong)phnum, file.Length))
            {
                throw Malformed(location,
                    $"its {phnum} program headers of {phentsize} bytes at offset {phoff} lie outside the file's "
                    + $"{file.Length} bytes");
            }

            elf = new Elf(is64, le, (int)phoff, phentsize, phnum);
            return true;
        }

        public int U16(ReadOnlySpan<byte> b, int at) =>
            LittleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(b[at..])
                : BinaryPrimitives.ReadUInt16BigEndian(b[at..]);

        public uint U32(ReadOnlySpan<byte> b, int at) =>
            LittleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(b[at..])
                : BinaryPrimitives.ReadUInt32BigEndian(b[at..]);

        public ulong U64(ReadOnlySpan<byte> b, int at) =>
            LittleEndian ? BinaryPrimitives.ReadUInt64LittleEndian(b[at..])
                : BinaryPrimitives.ReadUInt64BigEndian(b[at..]);
    }
}
