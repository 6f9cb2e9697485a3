using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Depot.Archive;
using Depot.Formats;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Operations;

/// <summary>
/// Caches built to attack the installer: each must fail with a clear message, quickly, and leave the target root and
/// everything outside it exactly as before.
/// </summary>
public sealed partial class HostileCacheTests : IDisposable
{
    private readonly TempDir temp = new();
    private readonly string mirror;
    private readonly string root;
    private readonly string outside;
    private readonly string prefix;
    private readonly string manifestKey;

    public HostileCacheTests()
    {
        var victim = VictimMirror.Create(temp.Path);
        (mirror, prefix, manifestKey) = (victim.Mirror, victim.Prefix, victim.ManifestKey);
        root = Path.Combine(temp.Path, "root");
        outside = Path.Combine(temp.Path, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "sentinel"), "untouched");
    }

    public void Dispose() => temp.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string Member(string relative) => prefix.TrimStart('/') + (relative.Length == 0 ? "" : "/" + relative);

    private static string BuildInfoYaml(string textFiles = "", string sbang = "/nowhere/bin/sbang",
        string links = "") =>
        $"{{sbang_install_path: {sbang}, buildpath: /nowhere, spackprefix: /nowhere, relative_prefix: x, "
        + "hardlinks_deduped: true, hash_to_prefix: {}, relocate_binaries: [], "
        + $"relocate_links: [{links}], relocate_textfiles: [{textFiles}]}}\n";

    public static TheoryData<string, string> ArchiveAttacks => new()
    {
        { "dotdot", "has '..'" },
        { "absolute", "absolute or malformed" },
        { "outside-member", "is outside the package directory" },
        { "relative-symlink-escape", "points outside the packages being installed" },
        { "write-through-symlink", "written through the symlink" },
        { "hardlink-escape", "does not name a file of the package" },
        { "device", "which a package may not hold" },
        { "fifo", "which a package may not hold" },
        { "absolute-symlink-elsewhere", "points outside the packages being installed" },
        { "buildinfo-escape", "not a path inside the prefix" },
        { "buildinfo-through-symlink", "lies behind a symlink" },
        { "sbang-path-names-etc", "shadow -> /etc/shadow points outside the packages being installed" },
        { "buildpath-dotdot-unlisted",
            "passwd -> /nowhere/../../../../etc/passwd points outside the packages being installed (it climbs with "
            + "'..' out of /nowhere)" },
        { "buildpath-dotdot-listed", "points outside the packages being installed (to /etc/passwd)" },
        { "chain-climbs-out", "symlink up -> here/.. points outside the packages being installed" },
    };

    [Theory]
    [MemberData(nameof(ArchiveAttacks))]
    public async Task HostileArchivesAreRefusedAndNothingIsWritten(string attack, string message)
    {
        ReplaceTarball(tar =>
        {
            AddDirectory(tar, Member(""));
            AddDirectory(tar, Member(".spack"));
            switch (attack)
            {
                case "dotdot":
                    AddFile(tar, Member("../../../../escaped.txt"), "x");
                    break;
                case "absolute":
                    AddFile(tar, Path.Combine(outside, "escaped.txt"), "x");
                    break;
                case "outside-member":
                    AddFile(tar, outside.TrimStart('/') + "/escaped.txt", "x");
                    break;
                case "relative-symlink-escape":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("evil"))
                    {
                        LinkName = "../../../../../../../../" + outside.TrimStart('/'),
                    });
                    break;
                case "write-through-symlink":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("lib")) { LinkName = outside });
                    AddFile(tar, Member("lib/escaped.txt"), "x");
                    break;
                case "hardlink-escape":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, Member("passwd"))
                    {
                        LinkName = "etc/passwd",
                    });
                    break;
                case "device":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, Member("null"))
                    {
                        DeviceMajor = 1,
                        DeviceMinor = 3,
                    });
                    break;
                case "fifo":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, Member("pipe")));
                    break;
                case "absolute-symlink-elsewhere":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("shadow"))
                    {
                        LinkName = "/etc/shadow",
                    });
                    break;
                case "buildinfo-escape":
                    AddFile(tar, Member(".spack/binary_distribution"), BuildInfoYaml("../../outside/sentinel"));
                    return;
                case "sbang-path-names-etc":
                    // The build info may name any sbang path; /etc must not make /etc/shadow a target of the package.
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("shadow"))
                    {
                        LinkName = "/etc/shadow",
                    });
                    AddFile(tar, Member(".spack/binary_distribution"), BuildInfoYaml(sbang: "/etc"));
                    return;
                case "buildpath-dotdot-unlisted":
                    // Starts with the build path, but is not listed for relocation: it stays as it is, and leads to
                    // /etc.
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("passwd"))
                    {
                        LinkName = "/nowhere/../../../../etc/passwd",
                    });
                    break;
                case "buildpath-dotdot-listed":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("passwd"))
                    {
                        LinkName = "/nowhere/x/../../../../../../../../etc/passwd",
                    });
                    AddFile(tar, Member(".spack/binary_distribution"), BuildInfoYaml(links: "passwd"));
                    return;
                case "chain-climbs-out":
                    // Each link looks inside the package when read alone; followed, 'up' is the folder above the
                    // prefix.
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("here")) { LinkName = "." });
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("up")) { LinkName = "here/.." });
                    break;
                case "buildinfo-through-symlink":
                    // The link stays inside the package, but relocating through it could be redirected later.
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("share")) { LinkName = ".spack" });
                    AddFile(tar, Member(".spack/binary_distribution"), BuildInfoYaml("share/binary_distribution"));
                    return;
            }

            AddFile(tar, Member(".spack/binary_distribution"), BuildInfoYaml());
        });

        await AssertRefusedAsync(message);
    }

    [Fact]
    public async Task ASpackTreeKeepsNothingOfARefusedPackageNotEvenItsProjectionFolders()
    {
        ReplaceTarball(tar =>
        {
            AddDirectory(tar, Member(""));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, Member("shadow")) { LinkName = "/etc/shadow" });
            AddFile(tar, Member(".spack/binary_distribution"), BuildInfoYaml(sbang: "/etc"));
        });
        var result = await InstallOperation.RunAsync([Mirror.Of(new LocalDirectoryStore(mirror),
            TrustPolicy.None(mirror), name: "hostile")],
            [SpecQuery.Parse("victim")],
                new InstallOptions(new SpackTreeTarget(root, Projection: "{name}/{version}/{hash}")), null, Token);

        Assert.Contains("shadow -> /etc/shadow points outside",
            Assert.Single(result.Outcomes, o => o.Status == InstallStatus.Failed).Reason, StringComparison.Ordinal);
        Assert.Equal([".spack-db"],
            Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName)); // Spack's prefix lock file only
        Assert.Equal(["prefix_lock"],
            Directory.EnumerateFileSystemEntries(Path.Combine(root, ".spack-db")).Select(Path.GetFileName));
        AssertNothingWritten(rootMayHoldDatabase: true);
    }

    [Fact]
    public async Task AGzipBombStopsAtTheLimit()
    {
        ReplaceTarball(tar =>
        {
            AddDirectory(tar, Member(""));
            var zeros = new PaxTarEntry(TarEntryType.RegularFile, Member("zeros"))
            {
                DataStream = new MemoryStream(new byte[32 << 20]),
            };
            tar.WriteEntry(zeros);
            AddFile(tar, Member(".spack/binary_distribution"), BuildInfoYaml());
        });
        Assert.True(new FileInfo(TarballPath()).Length < 1 << 20); // 32 MiB of zeros in well under 1 MiB

        await AssertRefusedAsync("unpacks to more than", new ExtractionLimits(MaxBytes: 8 << 20));
    }

    [Fact]
    public async Task ATruncatedTarballIsRefused()
    {
        var blob = TarballPath();
        var bytes = File.ReadAllBytes(blob);
        WriteTarballBlob(bytes[..(bytes.Length / 2)]);
        await AssertRefusedAsync("corrupt or truncated");
    }

    [Fact]
    public async Task AChecksumMismatchIsRefused()
    {
        var blob = TarballPath();
        var bytes = File.ReadAllBytes(blob);
        bytes[^10] ^= 0xff;
        File.WriteAllBytes(blob, bytes);
        await AssertRefusedAsync("sha256 is");
    }

    [Fact]
    public async Task ASpecWhoseHashDoesNotRecomputeIsRefused()
    {
        var manifest = BuildCacheManifest.Parse(File.ReadAllBytes(manifestKey), manifestKey);
        var specRecord = manifest.Find(MediaTypes.SpecPrefix, prefix: true)!;
        var json = Encoding.UTF8.GetString(Gzip.Decompress(File.ReadAllBytes(Path.Combine(mirror, specRecord.BlobKey)),
            "spec"));
        var changed = SpackGzip.Compress(Encoding.UTF8.GetBytes(json.Replace("\"version\":\"1.0\"",
            "\"version\":\"6.6\"", StringComparison.Ordinal)));
        var record = Blob(changed, specRecord.MediaType);
        File.WriteAllBytes(manifestKey,
            new BuildCacheManifest([manifest.Find(MediaTypes.Tarball)!, record]).ToJsonBytes());
        await AssertRefusedAsync("recomputes to");
    }

    [Fact]
    public async Task ABadSignatureAndAnUntrustedKeyAreRefused()
    {
        using var signed = TestData.Copy(TestData.V3Signed);
        var manifest = Directory.GetFiles(Path.Combine(signed.Path, "v3/manifests/spec/greet-data"), "*.json").Single();
        var text = File.ReadAllText(manifest);
        File.WriteAllText(manifest,
            text.Replace("\"contentLength\":", "\"contentLength\": ", StringComparison.Ordinal));
        var tampered = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(signed.Path, signed: true),
            new PlainRootTarget(root), "greet-data");
        Assert.Contains("BAD signature",
            Assert.Single(tampered.Outcomes, o => o.Status == InstallStatus.Failed).Reason!,
            StringComparison.OrdinalIgnoreCase);

        var stranger = KeyGenerator.Create("Stranger", "stranger@example.invalid", null, null, KeyAlgorithm.Ed25519);
        var untrusted = new TrustPolicy(TestData.Path(TestData.V3Signed),
            new SignatureVerifier([new Org.BouncyCastle.Bcpg.OpenPgp.PgpPublicKeyRing(stranger.GetPublicKey()
                .GetEncoded())]), requireSignature: true);
        var refused = await InstallOperationTests.InstallAsync(
            Mirror.Of(new LocalDirectoryStore(TestData.Path(TestData.V3Signed)), untrusted, name: "fixture"),
            new PlainRootTarget(root), "greet-data");
        Assert.Contains("not trusted", Assert.Single(refused.Outcomes, o => o.Status == InstallStatus.Failed).Reason!,
            StringComparison.Ordinal);
        AssertNothingWritten();
    }

    private async Task AssertRefusedAsync(string message, ExtractionLimits? limits = null)
    {
        var install = InstallOperation.RunAsync([Mirror.Of(new LocalDirectoryStore(mirror), TrustPolicy.None(mirror),
            name: "hostile")],
            [SpecQuery.Parse("victim")], new InstallOptions(new PlainRootTarget(root), Limits: limits), null, Token);
        var finished = await Task.WhenAny(install, Task.Delay(TimeSpan.FromSeconds(60), Token));
        Assert.Same(install, finished); // never hangs
        var failed = Assert.Single((await install).Outcomes, o => o.Status == InstallStatus.Failed);
        Assert.Contains(message, failed.Reason!, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failed.Reason!);
        AssertNothingWritten();
    }

    private void AssertNothingWritten(bool rootMayHoldDatabase = false)
    {
        Assert.True(!Directory.Exists(root)
            || !Directory.EnumerateFileSystemEntries(root)
                .Any(e => !rootMayHoldDatabase || Path.GetFileName(e) != ".spack-db"),
            "the root holds "
                + (Directory.Exists(root) ? string.Join(", ", Directory.EnumerateFileSystemEntries(root)) : ""));
        Assert.Equal(["sentinel"], Directory.EnumerateFileSystemEntries(outside).Select(Path.GetFileName));
        Assert.Equal("untouched", File.ReadAllText(Path.Combine(outside, "sentinel")));
        Assert.False(File.Exists(Path.Combine(temp.Path, "escaped.txt")));
    }

    private string TarballPath()
    {
        var manifest = BuildCacheManifest.Parse(File.ReadAllBytes(manifestKey), manifestKey);
        return Path.Combine(mirror, manifest.Find(MediaTypes.Tarball)!.BlobKey);
    }

    private void ReplaceTarball(Action<TarWriter> build)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            build(tar);
        }

        WriteTarballBlob(buffer.ToArray());
    }

    // A new tarball blob and a manifest that names it: the attack passes every checksum.
    private void WriteTarballBlob(byte[] gz)
    {
        var manifest = BuildCacheManifest.Parse(File.ReadAllBytes(manifestKey), manifestKey);
        var record = Blob(gz, MediaTypes.Tarball);
        File.WriteAllBytes(manifestKey,
            new BuildCacheManifest([record, manifest.Find(MediaTypes.SpecPrefix, prefix: true)!]).ToJsonBytes());
    }

    private BlobRecord Blob(byte[] content, string mediaType)
    {
        var record = new BlobRecord(content.Length, mediaType, "gzip", "sha256",
            Convert.ToHexStringLower(SHA256.HashData(content)));
        var path = Path.Combine(mirror, record.BlobKey);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return record;
    }

    private static void AddDirectory(TarWriter tar, string name) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name));

    private static void AddFile(TarWriter tar, string name, string content) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile,
            name)
        { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });
}
