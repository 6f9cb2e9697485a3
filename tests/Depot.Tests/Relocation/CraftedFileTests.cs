using System.Buffers.Binary;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Depot.Archive;
using Depot.Layout;
using Depot.Operations;
using Depot.Relocation;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Depot.Tests.InstallTree;
using Depot.Tests.Operations;

namespace Depot.Tests.Relocation;

/// <summary>
/// Issue 14, class 7: crafted files in a package (an ELF whose header offsets wrap a bounds check, build info YAML
/// nested 100,000 deep) fail that package with one line, never the process, and leave nothing in the root.
/// </summary>
public sealed class CraftedFileTests : IDisposable
{
    private readonly TempDir temp = new();
    private readonly string mirror;
    private readonly string root;
    private readonly string prefix;
    private readonly string manifestKey;

    public CraftedFileTests()
    {
        var victim = VictimMirror.Create(temp.Path);
        (mirror, prefix, manifestKey) = (victim.Mirror, victim.Prefix, victim.ManifestKey);
        root = Path.Combine(temp.Path, "root");
    }

    public void Dispose() => temp.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A 64-bit little-endian ELF header with one program header of 56 bytes at <paramref name="phoff"/>, then
    /// one PT_DYNAMIC.</summary>
    internal static byte[] CraftedElf(ulong phoff, ulong dynamicOffset = 120, ulong dynamicSize = 16)
    {
        var elf = new byte[256];
        "\u007fELF"u8.CopyTo(elf);
        elf[4] = 2; // 64-bit
        elf[5] = 1; // little-endian
        elf[6] = 1;
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(32), phoff);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(54), 56);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(56), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(64), 2); // PT_DYNAMIC at 64 (when phoff is 64)
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(64 + 8), dynamicOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(64 + 32), dynamicSize);
        return elf;
    }

    private static PrefixMap Map()
    {
        var map = new PrefixMap();
        map.Add("/old/prefix", "/new/prefix");
        return map;
    }

    [Theory]
    [InlineData(0x7ffffffffffffff0UL, 120UL, 16UL,
        "its 1 program headers of 56 bytes at offset 9223372036854775792 lie outside the file's 256 bytes")]
    [InlineData(0xfffffffffffffff0UL, 120UL, 16UL,
        "its 1 program headers of 56 bytes at offset 18446744073709551600 lie outside the file's 256 bytes")]
    [InlineData(64UL, 0xfffffffffffffff8UL, 16UL,
        "its dynamic section (16 bytes at offset 18446744073709551608) lies outside the file's 256 bytes")]
    [InlineData(64UL, 120UL, 0x7fffffffffffffffUL,
        "its dynamic section (9223372036854775807 bytes at offset 120) lies outside the file's 256 bytes")]
    public void HeaderOffsetsThatWouldWrapAreOneLineErrors(ulong phoff, ulong dynamicOffset, ulong dynamicSize,
        string problem)
    {
        var elf = CraftedElf(phoff, dynamicOffset, dynamicSize);
        var e = Assert.Throws<InvalidContentException>(() => ElfPaths.RelocateInPlace(elf, Map(), null, out _,
            "bin/bad"));
        Assert.Equal("bin/bad: malformed ELF file: " + problem, e.Message);
    }

    [Fact]
    public void AnRpathOffsetNear2To64IsRefusedNotRead()
    {
        var elf = CraftedElf(64, dynamicOffset: 160, dynamicSize: 48);
        // PT_LOAD covering vaddr 0..256 at file offset 0, as a second program header.
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(56), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(120 - 64 + 64), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(120 + 32), 256);
        // DT_STRTAB 0, DT_RUNPATH at 2^64 - 8, DT_NULL.
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(160), 5);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(168), 0);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(176), 29);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(184), 0xfffffffffffffff8UL);
        var e = Assert.Throws<InvalidContentException>(() => ElfPaths.RelocateInPlace(elf, Map(), null, out _,
            "lib/libbad.so"));
        Assert.Equal("lib/libbad.so: malformed ELF file: its RUNPATH string (offset 18446744073709551608 into the "
            + "string table) lies outside the file's 256 bytes", e.Message);
    }

    [Fact]
    public async Task InstallingACraftedElfFailsThatPackageWithOneLine()
    {
        ReplaceTarball(tar =>
        {
            AddFile(tar, Member("bin/bad"), CraftedElf(0x7ffffffffffffff0UL));
            AddFile(tar, Member(".spack/binary_distribution"),
                Encoding.UTF8.GetBytes(BuildInfoYaml("relocate_binaries: [bin/bad]")));
        });
        var reason = await InstallFailureAsync();
        Assert.Equal("bin/bad: malformed ELF file: its 1 program headers of 56 bytes at offset 9223372036854775792 lie "
            + "outside the file's 256 bytes", reason);
        AssertRootClean();
    }

    [Fact]
    public async Task BuildInfoNested100000DeepIsRefusedAndLeavesNoTemporaryFolder()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);
        ReplaceTarball(tar => AddFile(tar, Member(".spack/binary_distribution"),
            Encoding.UTF8.GetBytes(BuildInfoYaml("relocate_textfiles: " + deep))));
        var reason = await InstallFailureAsync();
        Assert.EndsWith(":.spack/binary_distribution: build info nests deeper than 16 levels", reason,
            StringComparison.Ordinal);
        AssertRootClean();

        // Block style nests too: a sequence of sequences, one "- " per level.
        ReplaceTarball(tar => AddFile(tar, Member(".spack/binary_distribution"),
            Encoding.UTF8.GetBytes("buildpath: /nowhere\nrelocate_textfiles:\n"
                + string.Concat(Enumerable.Repeat("- ", 100_000)) + "x\n")));
        Assert.EndsWith("build info nests deeper than 16 levels", await InstallFailureAsync(),
            StringComparison.Ordinal);
        AssertRootClean();
    }

    [Fact]
    public async Task TheCliExitsOneNotACrashOnACraftedElf()
    {
        ReplaceTarball(tar =>
        {
            AddFile(tar, Member("bin/bad"), CraftedElf(0x7ffffffffffffff0UL));
            AddFile(tar, Member(".spack/binary_distribution"),
                Encoding.UTF8.GetBytes(BuildInfoYaml("relocate_binaries: [bin/bad]")));
        });
        var start = new ProcessStartInfo("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "Depot.Cli.dll"),
            "install", "victim", "--from", mirror, "--no-verify", "--root", root])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DEPOT_HOME"] = Path.Combine(temp.Path, "home");
        using var depot = Process.Start(start)!;
        var output = depot.StandardOutput.ReadToEndAsync(Token);
        var error = await depot.StandardError.ReadToEndAsync(Token);
        await depot.WaitForExitAsync(Token);
        var all = await output + error;
        Assert.True(depot.ExitCode == 1, $"exit {depot.ExitCode}: {all}");
        Assert.Contains("bin/bad: malformed ELF file: its 1 program headers", all, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal); // no stack trace
        AssertRootClean();
    }

    private async Task<string> InstallFailureAsync()
    {
        var result = await InstallOperation.RunAsync([Mirror.Of(new LocalDirectoryStore(mirror),
            TrustPolicy.None(mirror), name: "hostile")],
            [SpecQuery.Parse("victim")], new InstallOptions(new PlainRootTarget(root)), null, Token);
        var reason = Assert.Single(result.Outcomes, o => o.Status == InstallStatus.Failed).Reason!;
        Assert.DoesNotContain('\n', reason);
        return reason;
    }

    private void AssertRootClean()
    {
        var left = Directory.Exists(root)
            ? Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).ToList()
            : [];
        Assert.True(left.Count == 0, "the root holds " + string.Join(", ", left));
    }

    private string Member(string relative) => prefix.TrimStart('/') + "/" + relative;

    private static string BuildInfoYaml(string extra) =>
        "{sbang_install_path: /nowhere/bin/sbang, buildpath: /nowhere, spackprefix: /nowhere, relative_prefix: x, "
        + "hash_to_prefix: {}, " + extra + "}\n";

    private void ReplaceTarball(Action<TarWriter> build)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, prefix.TrimStart('/')));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, Member("bin")));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, Member(".spack")));
            build(tar);
        }

        // A new tarball blob and a manifest naming it: the attack passes every checksum.
        var gz = buffer.ToArray();
        var manifest = BuildCacheManifest.Parse(File.ReadAllBytes(manifestKey), manifestKey);
        var record = new BlobRecord(gz.Length, MediaTypes.Tarball, "gzip", "sha256",
            Convert.ToHexStringLower(SHA256.HashData(gz)));
        var path = Path.Combine(mirror, record.BlobKey);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, gz);
        File.WriteAllBytes(manifestKey,
            new BuildCacheManifest([record, manifest.Find(MediaTypes.SpecPrefix, prefix: true)!]).ToJsonBytes());
    }

    private static void AddFile(TarWriter tar, string name, byte[] content) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
}
