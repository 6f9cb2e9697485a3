using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Depot.Relocation;

namespace Depot.Tests.Relocation;

/// <summary>
/// relocation.md §4.3 step 1: RPATH/RUNPATH entries and PT_INTERP that start with an old prefix are rewritten in place
/// (the rest of the old string becomes NUL); a string that would grow is left alone and reported, unless the caller
/// supplies a shorter equivalent. Both ELF classes and byte orders; binutils' <c>readelf</c> is the oracle.
/// </summary>
public sealed partial class ElfPathTests : IDisposable
{
    private const string OldRoot = "/build/spack/opt/spack/__spack_path_placeholder__";
    private const string OldPackage = OldRoot + "/linux-x86_64/pkg-1.0-aaaaaaa";
    private const string OldDependency = OldRoot + "/linux-x86_64/dep-2.0-bbbbbbb";

    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    private static PrefixMap Map(params (string Old, string New)[] pairs)
    {
        var map = new PrefixMap();
        foreach (var (old, @new) in pairs)
        {
            map.Add(old, @new);
        }

        return map;
    }

    private static PrefixMap ShorterMap() => Map(
        (OldPackage, "/sw/pkg-1.0-aaaaaaa"),
        (OldDependency, "/sw/dep-2.0-bbbbbbb"),
        (OldRoot, "/sw"));

    public static TheoryData<bool, bool, long> Kinds()
    {
        var kinds = new TheoryData<bool, bool, long>();
        foreach (var is64 in new[] { true, false })
        {
            foreach (var littleEndian in new[] { true, false })
            {
                kinds.Add(is64, littleEndian, MinimalElf.DtRpath);
                kinds.Add(is64, littleEndian, MinimalElf.DtRunpath);
            }
        }

        return kinds;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AShorterPathIsWrittenWhereTheOldOneWasAndTheRestBecomesNul(bool is64, bool littleEndian, long tag)
    {
        var oldPath = $"{OldPackage}/lib:/usr/lib64:{OldDependency}/lib64";
        var elf = MinimalElf.Create(is64, littleEndian, interpreter: null, oldPath, tag);
        var before = elf.Bytes.ToArray();

        var problems = ElfPaths.RelocateInPlace(elf.Bytes, ShorterMap(), null, out var modified);

        Assert.Empty(problems);
        Assert.True(modified);
        const string Expected = "/sw/pkg-1.0-aaaaaaa/lib:/usr/lib64:/sw/dep-2.0-bbbbbbb/lib64";
        Assert.Equal(Expected, elf.StringAt(elf.PathOffset));
        Assert.All(elf.Bytes[(elf.PathOffset + Expected.Length)..(elf.PathOffset + oldPath.Length + 1)],
            b => Assert.Equal(0, b));
        // Nothing else moved: the tag (RPATH stays RPATH, RUNPATH stays RUNPATH), the headers, the other strings.
        Assert.Equal(before[..elf.PathOffset], elf.Bytes[..elf.PathOffset]);
        Assert.Equal(before[(elf.PathOffset + oldPath.Length + 1)..],
            elf.Bytes[(elf.PathOffset + oldPath.Length + 1)..]);
        if (littleEndian)
        {
            var file = temp.Combine($"elf-{is64}-{tag}");
            File.WriteAllBytes(file, elf.Bytes);
            Assert.Equal((tag == MinimalElf.DtRpath ? "rpath" : "runpath", Expected), Readelf.Path(file));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheInterpreterIsRelocatedLikeAPath(bool is64)
    {
        var oldInterpreter = OldRoot + "/linux-x86_64/glibc-2.40-ccccccc/lib/ld-linux.so.2";
        var elf = MinimalElf.Create(is64, littleEndian: true, oldInterpreter, $"{OldPackage}/lib");

        Assert.Empty(ElfPaths.RelocateInPlace(elf.Bytes, ShorterMap(), null, out var modified));

        Assert.True(modified);
        Assert.Equal("/sw/linux-x86_64/glibc-2.40-ccccccc/lib/ld-linux.so.2", elf.StringAt(elf.InterpreterOffset));
        Assert.Equal("/sw/pkg-1.0-aaaaaaa/lib", elf.StringAt(elf.PathOffset));
        var file = temp.Combine("interp");
        File.WriteAllBytes(file, elf.Bytes);
        Assert.Equal("/sw/linux-x86_64/glibc-2.40-ccccccc/lib/ld-linux.so.2", Readelf.Interpreter(file));
    }

    [Fact]
    public void ANewPathOfEqualLengthFillsTheOldBytesExactly()
    {
        var sameLength = ("/opt/other-root/" + new string('p', OldPackage.Length))[..OldPackage.Length];
        var elf = MinimalElf.Create(true, true, null, OldPackage + "/lib");
        var nulAfter = elf.PathOffset + OldPackage.Length + 4;

        Assert.Empty(ElfPaths.RelocateInPlace(elf.Bytes, Map((OldPackage, sameLength)), null, out var modified));

        Assert.True(modified);
        Assert.Equal(sameLength + "/lib", elf.StringAt(elf.PathOffset));
        Assert.Equal(0, elf.Bytes[nulAfter]);
    }

    [Theory]
    [InlineData(MinimalElf.DtRpath, "RPATH")]
    [InlineData(MinimalElf.DtRunpath, "RUNPATH")]
    public void ALongerPathIsReportedAndNothingIsWritten(long tag, string kind)
    {
        var elf = MinimalElf.Create(true, true, "/lib64/ld-linux-x86-64.so.2", "/short/pkg/lib:/usr/lib", tag);
        var before = elf.Bytes.ToArray();
        var longer = "/a/much/longer/install/root/pkg";

        var problems = ElfPaths.RelocateInPlace(elf.Bytes, Map(("/short/pkg", longer)), null, out var modified);

        Assert.False(modified);
        Assert.Equal($"{kind} '{longer}/lib:/usr/lib' does not fit in the 23 bytes of '/short/pkg/lib:/usr/lib'",
            Assert.Single(problems));
        Assert.Equal(before, elf.Bytes);
    }

    [Fact]
    public void ALongerPathTakesTheShorterEquivalentTheCallerGives()
    {
        var elf = MinimalElf.Create(true, true, null, "/short/pkg/lib:/usr/lib");
        var asked = new List<string>();

        var problems = ElfPaths.RelocateInPlace(elf.Bytes, Map(("/short/pkg", "/a/much/longer/install/root/pkg")),
            old =>
            {
                asked.Add(old);
                return "/r/abc/lib:/usr/lib";
            }, out var modified);

        Assert.Empty(problems);
        Assert.True(modified);
        Assert.Equal(["/short/pkg/lib:/usr/lib"], asked); // given the old string, once
        Assert.Equal("/r/abc/lib:/usr/lib", elf.StringAt(elf.PathOffset));

        // A "shorter" equivalent that still does not fit is reported like any other.
        var again = MinimalElf.Create(true, true, null, "/short/pkg/lib");
        var stillLong = ElfPaths.RelocateInPlace(again.Bytes, Map(("/short/pkg", "/a/much/longer/root")),
            _ => "/not/short/enough/either/lib", out var changed);
        Assert.False(changed);
        Assert.Equal("RUNPATH '/not/short/enough/either/lib' does not fit in the 14 bytes of '/short/pkg/lib'",
            Assert.Single(stillLong));
    }

    [Fact]
    public void EntriesOutsideEveryOldPrefixStayAndEmptyEntriesAreDropped()
    {
        // Spack splits on ':' and drops empty entries; only an entry's start is matched (a prefix in the middle of an
        // entry, as in /home/x/build/..., is not one).
        var elf = MinimalElf.Create(true, true, null, "/usr/lib::/home/x" + OldPackage + ":" + OldPackage + "/lib");

        Assert.Empty(ElfPaths.RelocateInPlace(elf.Bytes, ShorterMap(), null, out _));

        Assert.Equal("/usr/lib:/home/x" + OldPackage + ":/sw/pkg-1.0-aaaaaaa/lib", elf.StringAt(elf.PathOffset));
    }

    [Fact]
    public void AnEarlierPairWinsOverALaterOneThatAlsoMatches()
    {
        // Spack's order puts each package before the root it lives in, so the package's own new prefix is used.
        var elf = MinimalElf.Create(true, true, null, OldPackage + "/lib");
        ElfPaths.RelocateInPlace(elf.Bytes, Map((OldPackage, "/sw/p"), (OldRoot, "/other")), null, out _);
        Assert.Equal("/sw/p/lib", elf.StringAt(elf.PathOffset));

        var reversed = MinimalElf.Create(true, true, null, OldPackage + "/lib");
        ElfPaths.RelocateInPlace(reversed.Bytes, Map((OldRoot, "/other"), (OldPackage, "/sw/p")), null, out _);
        Assert.Equal("/other/linux-x86_64/pkg-1.0-aaaaaaa/lib", reversed.StringAt(reversed.PathOffset));
    }

    [Fact]
    public void FilesThatAreNotElfOrHaveNothingToRelocateAreLeftAlone()
    {
        var script = Encoding.UTF8.GetBytes("#!/bin/sh\n# " + OldPackage + "/lib\n" + new string('x', 64));
        var copy = script.ToArray();
        Assert.Empty(ElfPaths.RelocateInPlace(script, ShorterMap(), null, out var modified));
        Assert.False(modified);
        Assert.Equal(copy, script);

        var noPaths = MinimalElf.Create(true, true, "/lib64/ld-linux-x86-64.so.2", path: null);
        var before = noPaths.Bytes.ToArray();
        Assert.Empty(ElfPaths.RelocateInPlace(noPaths.Bytes, ShorterMap(), null, out modified));
        Assert.False(modified);
        Assert.Equal(before, noPaths.Bytes);
    }

    [Fact]
    public void TheRealGreetBinaryOfSpack12GetsItsRpathAndKeepsItsLength()
    {
        const string Old = "/tmp/depot-fixtures/spack-1.2/opt/spack";
        var source = Directory.GetFiles(TestData.Path("spack-1.2/install-tree/linux-x86_64"), "greet",
            SearchOption.AllDirectories).Single(f => f.EndsWith("/bin/greet", StringComparison.Ordinal));
        var original = File.ReadAllBytes(source);
        var (kind, oldRpath) = Readelf.Path(source);
        Assert.Equal("rpath", kind);
        Assert.StartsWith(Old + "/linux-x86_64/gcc-runtime-12.2.0-", oldRpath, StringComparison.Ordinal);

        var bytes = original.ToArray();
        Assert.Empty(ElfPaths.RelocateInPlace(bytes, Map((Old, "/sw")), null, out var modified, "bin/greet"));

        Assert.True(modified);
        Assert.Equal(original.Length, bytes.Length);
        var file = temp.Combine("greet");
        File.WriteAllBytes(file, bytes);
        Assert.Equal(("rpath", oldRpath.Replace(Old, "/sw", StringComparison.Ordinal)), Readelf.Path(file));
        Assert.Equal("/lib64/ld-linux-x86-64.so.2", Readelf.Interpreter(file)); // not under an old prefix
        var changed = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] != original[i]).ToList();
        var rpathAt = original.AsSpan().IndexOf(Encoding.UTF8.GetBytes(oldRpath + "\0"));
        Assert.All(changed, i => Assert.InRange(i, rpathAt, rpathAt + oldRpath.Length));
    }

    /// <summary>binutils' view of an ELF file.</summary>
    internal static partial class Readelf
    {
        public static (string Kind, string Value) Path(string file)
        {
            var match = PathLine().Match(Run("-d", file));
            Assert.True(match.Success, "readelf -d shows no RPATH or RUNPATH for " + file);
            return (match.Groups[1].Value, match.Groups[2].Value);
        }

        public static string Interpreter(string file)
        {
            var match = InterpreterLine().Match(Run("-l", file));
            Assert.True(match.Success, "readelf -l shows no interpreter for " + file);
            return match.Groups[1].Value;
        }

        private static string Run(string option, string file)
        {
            using var readelf = Process.Start(new ProcessStartInfo("readelf", ["-W", option, file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = readelf.StandardOutput.ReadToEnd();
            var error = readelf.StandardError.ReadToEnd();
            readelf.WaitForExit();
            Assert.True(readelf.ExitCode == 0 && error.Length == 0, $"readelf {option} {file}: {error}");
            return output;
        }

        [GeneratedRegex(@"Library (rpath|runpath): \[([^\]]*)\]")]
        private static partial Regex PathLine();

        [GeneratedRegex(@"\[Requesting program interpreter: ([^\]]*)\]")]
        private static partial Regex InterpreterLine();
    }
}
