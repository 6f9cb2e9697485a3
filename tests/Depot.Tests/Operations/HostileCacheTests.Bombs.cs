using System.Formats.Tar;
using System.IO.Compression;
using Depot.Archive;
using Depot.Configuration;
using Depot.Operations;
using Depot.Specs;
using Depot.Storage.Providers;

namespace Depot.Tests.Operations;

/// <summary>
/// Decompression bombs and full disks: past a floor (lowered here so the bombs stay small), a package that unpacks at
/// more than the allowed ratio is refused in one line naming the package, the ratio and the setting, and leaves
/// nothing; a mirror's own <c>max_compression_ratio</c> lets an honest one through; too little free space, before or
/// while unpacking, is refused the same way.
/// </summary>
public sealed partial class HostileCacheTests
{
    private static readonly ExtractionLimits LowFloor = new() { CompressionRatioFloor = 2 << 20 };

    [Fact]
    public async Task ACompressionBombIsRefusedPastTheRatioFloor()
    {
        AddZerosToTarball(24 << 20);
        Assert.True(new FileInfo(TarballPath()).Length < 100 << 10); // 24 MiB of zeros in under 100 KiB

        await AssertRefusedAsync("victim@1.0/", LowFloor);
        var reason = await RefusalAsync(LowFloor);
        Assert.Matches(@"refused as a decompression bomb: [\d.]+ MiB unpacked from [\d.]+ KiB read, a ratio of \d+:1, "
            + "above the 200:1 allowed past 2 MiB; if this package is honest, raise max_compression_ratio of the "
            + "mirror, configured by name in Depot's config.yaml", reason);
        Assert.StartsWith(TarballPath(), reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMirrorsOwnRatioLetsAnHonestBombLikePackageThrough()
    {
        AddZerosToTarball(24 << 20);
        var home = Path.Combine(temp.Path, "home");
        Directory.CreateDirectory(home);
        var config = Path.Combine(home, "config.yaml");
        await File.WriteAllTextAsync(config, $"mirrors:\n  sparse:\n    url: {mirror}\n    signed: false\n", Token);
        var engine = new EngineContext(new DepotHome(home), StoreProviders.Builtin);

        var refused = await InstallOperation.RunAsync([engine.OpenForRead("sparse")], [SpecQuery.Parse("victim")],
            new InstallOptions(new PlainRootTarget(root), Limits: LowFloor), null, Token);
        Assert.EndsWith($"raise max_compression_ratio of mirror 'sparse', configured in depot ({config})",
            Assert.Single(refused.Outcomes, o => o.Status == InstallStatus.Failed).Reason!, StringComparison.Ordinal);
        AssertNothingWritten();

        await File.AppendAllTextAsync(config, "    max_compression_ratio: 5000\n", Token);
        engine = new EngineContext(new DepotHome(home), StoreProviders.Builtin);
        var installed = await InstallOperation.RunAsync([engine.OpenForRead("sparse")], [SpecQuery.Parse("victim")],
            new InstallOptions(new PlainRootTarget(root), Limits: LowFloor), null, Token);
        Assert.Equal(InstallStatus.Installed, Assert.Single(installed.Outcomes).Status);
    }

    [Fact]
    public void ARatioUnderOneIsRefusedInTheConfiguration()
    {
        var config = Path.Combine(temp.Path, "config.yaml");
        File.WriteAllText(config, $"mirrors:\n  sparse:\n    url: {mirror}\n    max_compression_ratio: 0.5\n");
        var e = Assert.ThrowsAny<DepotException>(() => DepotConfig.Load(config));
        Assert.Contains("mirrors.sparse.max_compression_ratio", e.Message, StringComparison.Ordinal);
        Assert.Contains("at least 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnHonestPackageThatCompressesWellPassesTheRatio()
    {
        // 8 MiB of numbered log lines: gzip takes them to well under a tenth, still far under 200:1.
        var lines = string.Concat(Enumerable.Range(0, 200_000).Select(i => $"step {i}: ok ({i * 7919 % 1000})\n"));
        var tarball = Path.Combine(temp.Path, "honest.tar.gz");
        WriteTarball(tarball, ("pkg/share/log.txt", System.Text.Encoding.UTF8.GetBytes(lines)));
        var compressed = new FileInfo(tarball).Length;
        Assert.InRange((double)lines.Length / compressed, 5, 200);

        var unpacked = await SafeExtractor.ExtractAsync(tarball, Path.Combine(temp.Path, "staging"), LowFloor,
            tarball, "honest@1.0/abcdefg", Token);
        Assert.Equal(lines.Length, new FileInfo(Path.Combine(unpacked, "share/log.txt")).Length);
    }

    [Fact]
    public async Task TooLittleFreeSpaceBeforeUnpackingIsRefused()
    {
        var tarball = Path.Combine(temp.Path, "small.tar.gz");
        WriteTarball(tarball, ("pkg/share/a.txt", new byte[1000]));
        var e = await Assert.ThrowsAsync<DepotException>(() => SafeExtractor.ExtractAsync(tarball,
            Path.Combine(temp.Path, "staging"), new ExtractionLimits { FreeBytes = _ => 10 << 20 }, tarball,
            "small@1.0/abcdefg", Token));
        Assert.Equal(ErrorKind.IO, e.Kind);
        Assert.Matches(@"^.*small\.tar\.gz: small@1\.0/abcdefg: not unpacked: 10 MiB free in .*staging, less than the "
            + @"tarball's 0 MiB and the 64 MiB Depot keeps free: make room there or install to another root$",
            e.Message);
    }

    [Fact]
    public async Task RunningOutOfSpaceWhileUnpackingStopsAndLeavesNothing()
    {
        AddZerosToTarball(8 << 20);
        var checks = 0;
        var limits = new ExtractionLimits
        {
            FreeSpaceCheckBytes = 1 << 20,
            FreeBytes = _ => Interlocked.Increment(ref checks) < 3 ? 1L << 40 : 32L << 20,
        };

        await AssertRefusedAsync("unpacking stopped after", limits);
        var reason = await RefusalAsync(limits with { FreeBytes = _ => 32L << 20 });
        Assert.Contains("not unpacked: 32 MiB free", reason, StringComparison.Ordinal);
    }

    private async Task<string> RefusalAsync(ExtractionLimits limits)
    {
        var result = await InstallOperation.RunAsync([Mirror.Of(new Depot.Storage.LocalDirectoryStore(mirror),
            Depot.Signing.TrustPolicy.None(mirror), name: "hostile")], [SpecQuery.Parse("victim")],
            new InstallOptions(new PlainRootTarget(root), Limits: limits), null, Token);
        AssertNothingWritten();
        return Assert.Single(result.Outcomes, o => o.Status == InstallStatus.Failed).Reason!;
    }

    // The victim's own tarball with a member of zeros added: an honest package in every other way.
    private void AddZerosToTarball(int bytes)
    {
        var entries = new List<(TarEntry Entry, byte[]? Data)>();
        using (var file = File.OpenRead(TarballPath()))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        using (var reader = new TarReader(gzip))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                using var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                entries.Add((entry, entry.DataStream is null ? null : data.ToArray()));
            }
        }

        ReplaceTarball(tar =>
        {
            foreach (var (entry, data) in entries)
            {
                if (data is not null)
                {
                    entry.DataStream = new MemoryStream(data);
                }

                tar.WriteEntry(entry);
            }

            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, Member("share/zeros"))
            {
                DataStream = new MemoryStream(new byte[bytes]),
            });
        });
    }

    private static void WriteTarball(string path, params (string Name, byte[] Content)[] files)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Optimal);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var folder in new[] { "pkg", "pkg/.spack", "pkg/share" })
        {
            AddDirectory(tar, folder);
        }

        AddFile(tar, "pkg/.spack/binary_distribution", BuildInfoYaml());
        foreach (var (name, content) in files)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
        }
    }
}
