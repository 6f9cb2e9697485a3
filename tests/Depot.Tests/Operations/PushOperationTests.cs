using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.InstallTree;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Operations;

/// <summary>Push from the real Spack install trees, compared with the caches Spack made of the same trees.</summary>
public class PushOperationTests
{
    private const string Tree12 = "spack-1.2/install-tree";
    private const string Tree021 = "spack-0.21/install-tree";

    // The recorded Spack checkouts of the fixture builds (they only appear in the build info's spackprefix).
    private const string SpackPrefix12 = "/tmp/spack12";
    private const string SpackPrefix021 = "/tmp/depot-fixtures/spack-0.21/spack";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    internal static Task<PushResult> PushAsync(string tree, string mirror, PushOptions options,
        params string[] queries) =>
        PushAsync(tree, Mirror.Of(new LocalDirectoryStore(mirror)), options, queries);

    internal static async Task<PushResult> PushAsync(string tree, Mirror mirror, PushOptions options,
        params string[] queries)
    {
        var db = await InstallDatabase.ReadAsync(tree, cancellationToken: Token);
        var plan = PushSelection.Select(db, queries.Select(Depot.Specs.SpecQuery.Parse).ToList(),
            all: queries.Length == 0);
        return await PushOperation.RunAsync(mirror, db, plan, options, null, Token);
    }

    /// <summary>A local mirror opened to write <paramref name="layout"/>, unsigned.</summary>
    internal static Mirror Writing(string mirror, PushLayout layout) => Mirror.Of(new LocalDirectoryStore(mirror),
        layout: layout);

    [Fact]
    public async Task V3PushReproducesSpacksTarballsAndSpecBlobsByteForByte()
    {
        using var mirror = new TempDir();
        var result = await PushAsync(TestData.Path(Tree12), mirror.Path, new PushOptions(SpackPrefix: SpackPrefix12));

        Assert.Equal(5, result.Count(PushStatus.Pushed));
        Assert.Equal(3, result.Count(PushStatus.SkippedExternal)); // gcc, glibc, gmake
        var ours = V3Entries(mirror.Path);
        var spacks = V3Entries(TestData.Path(TestData.V3Unsigned));
        Assert.Equal(spacks.Keys.Order(), ours.Keys.Order());
        foreach (var (manifest, (tarball, spec)) in spacks)
        {
            Assert.Equal(spec, ours[manifest].Spec);
            if (!manifest.StartsWith("gcc-runtime", StringComparison.Ordinal)) // our tree keeps 2 of its 11 libraries
            {
                Assert.True(tarball.AsSpan().SequenceEqual(ours[manifest].Tarball),
                    $"{manifest}: uncompressed tarball differs from Spack's");
            }
        }

        // The index holds the same records as the one Spack wrote (externals included, not in the cache).
        var expected =
            JsonNode.Parse((await new BuildCacheV3(new LocalDirectoryStore(TestData.Path(TestData.V3Unsigned)))
                .ReadIndexAsync(Token))!.ToJsonBytes());
        var actual = JsonNode.Parse((await new BuildCacheV3(new LocalDirectoryStore(mirror.Path))
            .ReadIndexAsync(Token))!.ToJsonBytes());
        Assert.True(JsonNode.DeepEquals(expected, actual));
        Assert.Equal("{\"signing\": \"gpg\"}", File.ReadAllText(Path.Combine(mirror.Path, "v3/layout.json")));
    }

    [Fact]
    public async Task V2PushWritesWhatSpack021WroteApartFromTheChecksum()
    {
        using var mirror = new TempDir();
        var result = await PushAsync(TestData.Path(Tree021), Writing(mirror.Path, PushLayout.V2),
            new PushOptions(SpackPrefix: SpackPrefix021));

        Assert.Equal(3, result.Count(PushStatus.Pushed));
        var fixture = TestData.Path(TestData.V2Unsigned);
        var specFiles = Directory.GetFiles(Path.Combine(fixture, "build_cache"), "*.spec.json");
        Assert.Equal(3, specFiles.Length);
        foreach (var spackFile in specFiles)
        {
            var ours = Path.Combine(mirror.Path, "build_cache", Path.GetFileName(spackFile));
            var oursText = File.ReadAllText(ours);
            var spacksText = File.ReadAllText(spackFile);
            var oursJson = JsonNode.Parse(oursText)!.AsObject();
            var checksum = (string)oursJson["binary_cache_checksum"]!["hash"]!;
            var spacksChecksum = (string)JsonNode.Parse(spacksText)!["binary_cache_checksum"]!["hash"]!;
            Assert.Equal(spacksText.Replace(spacksChecksum, checksum, StringComparison.Ordinal),
                oursText); // same bytes but the checksum

            var tarball = Directory.GetFiles(Path.Combine(mirror.Path, "build_cache"),
                Path.GetFileName(spackFile).Replace(".spec.json", ".spack", StringComparison.Ordinal),
                SearchOption.AllDirectories).Single();
            Assert.Equal(checksum, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tarball))));
            var spacksTarball = tarball.Replace(mirror.Path, fixture, StringComparison.Ordinal);
            Assert.Equal(Gunzip(File.ReadAllBytes(spacksTarball)), Gunzip(File.ReadAllBytes(tarball)));
        }

        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(mirror.Path, "build_cache/index.json")));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(Path.Combine(fixture,
            "build_cache/index.json"))), index));
    }

    [Fact]
    public async Task V2For022AddsParentDirectoriesAndSaysLayoutVersion2()
    {
        using var mirror = new TempDir();
        await PushAsync(TestData.Path(Tree021), Writing(mirror.Path, PushLayout.V2Spack022), new PushOptions(),
            "greet-data");
        var specFile = Directory.GetFiles(Path.Combine(mirror.Path, "build_cache"), "*.spec.json").Single();
        Assert.Equal(2, (int)JsonNode.Parse(File.ReadAllText(specFile))!["buildcache_layout_version"]!);
        var tarball = Directory.GetFiles(mirror.Path, "*.spack", SearchOption.AllDirectories).Single();
        var names = Members(Gunzip(File.ReadAllBytes(tarball))).Select(m => m.Name).ToList();
        Assert.Equal(["tmp/", "tmp/depot-fixtures/", "tmp/depot-fixtures/spack-0.21/"], names.Take(3));
        Assert.EndsWith("/.spack/binary_distribution", names[^1], StringComparison.Ordinal);
        Assert.Contains("hash_to_prefix: {zi66hh25uj52mbypxnkvycwkkbwphquj:", BuildInfo(tarball),
            StringComparison.Ordinal); // 1.x flow style
    }

    [Fact]
    public async Task SignedPushClearsignsManifestsAndPublishesTheKey()
    {
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        var secret = keyring.SigningKey();
        var fingerprint = SignatureVerifier.Fingerprint(secret.PublicKey);
        using var mirror = new TempDir();
        var db = await InstallDatabase.ReadAsync(TestData.Path(Tree12), cancellationToken: Token);
        var plan = PushSelection.Select(db, [Depot.Specs.SpecQuery.Parse("greet")], all: false);
        var signing = new SigningChoice(secret, new PublishedKey(fingerprint, keyring.ExportPublic(fingerprint),
            fingerprint));
        var result = await PushOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path), signing: signing),
            db, plan, new PushOptions(),
            null, Token);

        Assert.Equal(3, result.Count(PushStatus.Pushed)); // greet, libgreet, gcc-runtime
        Assert.Equal(fingerprint, result.PublishedKey);
        var store = new LocalDirectoryStore(mirror.Path);
        var verify = await VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring, mirror.Path)),
            new VerifyOptions([]), null, Token);
        Assert.Equal(3, verify.Signed);
        Assert.Empty(verify.Failures);
        var keys = await KeyOperations.ReadMirrorKeysAsync(Mirror.Of(store), Token);
        Assert.Equal(fingerprint, Assert.Single(keys).Info.Fingerprint);
    }

    [Fact]
    public async Task PushingTwiceSkipsEverythingAndForceRewrites()
    {
        using var mirror = new TempDir();
        await PushAsync(TestData.Path(Tree021), Writing(mirror.Path, PushLayout.V2), new PushOptions());
        var recording = new Depot.Tests.Storage.RecordingStore(new LocalDirectoryStore(mirror.Path));
        var db = await InstallDatabase.ReadAsync(TestData.Path(Tree021), cancellationToken: Token);
        var plan = PushSelection.Select(db, [], all: true);

        var again = await PushOperation.RunAsync(Mirror.Of(recording), db, plan, new PushOptions(UpdateIndex: false),
            null, Token);
        Assert.Equal(3, again.Count(PushStatus.SkippedExists));
        Assert.Equal(PushLayout.V2, again.Layout); // the mirror's own layout
        Assert.Empty(recording.Written);

        var forced = await PushOperation.RunAsync(Mirror.Of(recording), db, plan, new PushOptions(Force: true,
            UpdateIndex: false), null, Token);
        Assert.Equal(3, forced.Count(PushStatus.Pushed));
        Assert.Equal(6, recording.Written.Count); // a tarball and a spec file each
    }

    [Fact]
    public async Task AFailingPackageIsReportedAndTheRestArePushed()
    {
        using var tree = new TempDir();
        var builder = new InstallTreeBuilder(tree.Path);
        var good = builder.Add("good", "1.0", p => WriteFile(p, "share/good.txt", "fine\n"));
        var bad = builder.Add("bad", "1.0", p => WriteFile(p, "share/bad.txt", "gone\n"));
        builder.WriteDatabase();
        Directory.Delete(builder.Prefix("bad", "1.0", bad), recursive: true);

        using var mirror = new TempDir();
        var result = await PushAsync(tree.Path, mirror.Path, new PushOptions());
        var failed = Assert.Single(result.Outcomes, o => o.Status == PushStatus.Failed);
        Assert.Equal(bad, failed.Hash);
        Assert.Contains("install prefix of bad/", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(good, Assert.Single(result.Outcomes, o => o.Status == PushStatus.Pushed).Hash);
        Assert.True(result.AnyFailed);

        using var mirror2 = new TempDir();
        var stopped = await PushAsync(tree.Path, mirror2.Path, new PushOptions(Parallelism: 1, FailFast: true));
        Assert.Equal(PushStatus.Failed, stopped.Outcomes[0].Status); // "bad" sorts first
        Assert.Equal(PushStatus.NotAttempted, stopped.Outcomes[1].Status);
        Assert.Null(stopped.Index); // no index over a partial push that was told to stop
    }

    [Fact]
    public async Task HardLinksSymlinksAndTextAreArchivedAndClassifiedLikeSpack()
    {
        using var tree = new TempDir();
        var builder = new InstallTreeBuilder(tree.Path);
        string? prefix = null;
        var dep = builder.Add("dep", "2.0", p => WriteFile(p, "lib/libdep.txt", "x"));
        var hash = builder.Add("tool", "1.0", p =>
        {
            prefix = p;
            WriteFile(p, "bin/run.sh", $"#!/bin/sh\nexec {p}/libexec/real \"$@\"\n");
            WriteFile(p, "libexec/real", "\u007fELF\u0002\u0001\u0001\0 pretend binary");
            WriteFile(p, "share/plain.txt", "no prefix in here\n");
            WriteFile(p, "share/flags.txt", $"-I{builder.Root}/linux-x86_64/other/include\n");
            WriteFile(p, "share/notprefix.txt", $"/elsewhere{builder.Root}/x\n");
            WriteFile(p, "share/latin1.dat", "caf\u00e9 " + p);
            File.WriteAllBytes(Path.Combine(p, "share/binary.dat"),
                [.. Encoding.UTF8.GetBytes(p), 0xff, 0x00, 0x01, 0x02]);
            File.CreateSymbolicLink(Path.Combine(p, "bin/abs"), p + "/libexec/real");
            File.CreateSymbolicLink(Path.Combine(p, "bin/rel"), "../libexec/real");
            CreateHardLink(Path.Combine(p, "libexec/real"), Path.Combine(p, "libexec/zz-second-name"));
            File.WriteAllText(Path.Combine(p, ".spack/binary_distribution"), "stale build info");
            File.WriteAllText(Path.Combine(p, ".spack/mentions.txt"), p);
        }, [(dep, ["build", "link"])]);
        builder.WriteDatabase();
        File.WriteAllBytes(Path.Combine(prefix!, "share/latin1.dat"),
            [.. Encoding.Latin1.GetBytes("caf\u00e9 " + prefix)]);

        using var mirror = new TempDir();
        await PushAsync(tree.Path, mirror.Path, new PushOptions(), "tool");
        var entries = V3Entries(mirror.Path);
        var tar = entries.Single(e => e.Key.StartsWith("tool-", StringComparison.Ordinal)).Value.Tarball!;
        var members = Members(tar);
        var root = prefix!.TrimStart('/');
        Assert.Equal(TarEntryType.HardLink, members.Single(m => m.Name == root + "/libexec/zz-second-name").EntryType);
        Assert.Equal(root + "/libexec/real", members.Single(m => m.Name == root + "/libexec/zz-second-name").LinkName);
        Assert.Equal(prefix + "/libexec/real", members.Single(m => m.Name == root + "/bin/abs").LinkName);
        Assert.Single(members,
            m => m.Name.EndsWith("binary_distribution", StringComparison.Ordinal)); // the stale one is gone
        Assert.All(members, m => Assert.Equal(0, m.Uid));

        var info = System.Text.Encoding.UTF8.GetString(members[^1].Content);
        Assert.Contains("relocate_binaries: [libexec/real]", info, StringComparison.Ordinal);
        Assert.Contains("relocate_links: [bin/abs]", info, StringComparison.Ordinal);
        Assert.Contains("relocate_textfiles: [bin/run.sh, share/flags.txt, share/latin1.dat]", info,
            StringComparison.Ordinal);
        Assert.Contains($"hash_to_prefix: {{{hash}: {prefix}, {dep}: {builder.Prefix("dep", "2.0", dep)}}}", info,
            StringComparison.Ordinal);
    }

    internal static void WriteFile(string prefix, string relative, string content)
    {
        var path = Path.Combine(prefix, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content, new UTF8Encoding(false));
    }

    private static void CreateHardLink(string existing, string link)
    {
        using var ln = System.Diagnostics.Process.Start("ln", [existing, link]);
        ln.WaitForExit();
        Assert.Equal(0, ln.ExitCode);
    }

    private static string BuildInfo(string tarballPath) =>
        Encoding.UTF8.GetString(Members(Gunzip(File.ReadAllBytes(tarballPath)))[^1].Content);

    internal static byte[] Gunzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    internal sealed record Member(string Name, TarEntryType EntryType, string LinkName, int Uid, byte[] Content);

    internal static List<Member> Members(byte[] tar)
    {
        var result = new List<Member>();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry() is { } e)
        {
            using var content = new MemoryStream();
            e.DataStream?.CopyTo(content);
            result.Add(new Member(e.Name, e.EntryType, e.LinkName, e.Uid, content.ToArray()));
        }

        return result;
    }

    /// <summary>Manifest file name → (uncompressed tarball or null when its blob is absent, uncompressed spec
    /// blob).</summary>
    internal static Dictionary<string, (byte[]? Tarball, byte[] Spec)> V3Entries(string mirror)
    {
        var result = new Dictionary<string, (byte[]?, byte[])>(StringComparer.Ordinal);
        foreach (var path in Directory.GetFiles(Path.Combine(mirror, "v3/manifests/spec"), "*.json",
            SearchOption.AllDirectories))
        {
            var manifest = BuildCacheManifest.Parse(File.ReadAllBytes(path), path);
            byte[]? Blob(string mediaPrefix)
            {
                var record = manifest.Find(mediaPrefix, prefix: true)!;
                var file = Path.Combine(mirror, record.BlobKey);
                return File.Exists(file) ? Gunzip(File.ReadAllBytes(file)) : null;
            }

            result[Path.GetFileName(path)] = (Blob("application/vnd.spack.install"), Blob(MediaTypes.SpecPrefix)!);
        }

        return result;
    }
}
