using System.Security.Cryptography;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// <c>depot migrate</c> on the real Spack 0.21 caches: the result verifies and installs, a second run does nothing,
/// and a run cancelled midway is completed by the next one.
/// </summary>
public sealed class MigrateOperationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static (Mirror Source, Mirror Target) Open(IObjectStore store, Keyring? keyring)
    {
        var key = keyring?.SigningKey();
        var fingerprint = key is null ? null : SignatureVerifier.Fingerprint(key.PublicKey);
        var signing = key is null ? SigningChoice.Unsigned
            : new SigningChoice(key, new PublishedKey(fingerprint!, keyring!.ExportPublic(fingerprint!), fingerprint!));
        return (Mirror.Of(store, keyring is null ? TrustPolicy.None("m") : TestData.Trusting(keyring, "m")),
            Mirror.Of(store, signing: signing, layout: PushLayout.V3, purpose: MirrorPurpose.Write));
    }

    private static async Task<MigrateResult> MigrateAsync(IObjectStore store, Keyring? keyring, bool deleteOld = false,
        CancellationToken? token = null)
    {
        var (source, target) = Open(store, keyring);
        return await MigrateOperation.RunAsync(source, target, new MigrateOptions(deleteOld, Parallelism: 1), null,
            token ?? Token);
    }

    [Fact]
    public async Task ASignedSpack021CacheMigratesVerifiesAndInstalls()
    {
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        using var cache = TestData.Copy(TestData.V2Signed);
        var store = new LocalDirectoryStore(cache.Path);
        var spackFiles = Directory.EnumerateFiles(Path.Combine(cache.Path, "build_cache"), "*.spack",
            SearchOption.AllDirectories).ToList();

        var result = await MigrateAsync(store, keyring, deleteOld: true);
        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        Assert.Equal(3, result.Count(CopyStatus.Converted));
        Assert.Equal("6640D90F8A1E84DD1142614C06BD5C3F48A372CC", result.PublishedKey);
        Assert.Equal(3, result.Index!.Specs);
        Assert.Equal(10, result.DeletedOld);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(cache.Path, "build_cache"), "*",
            SearchOption.AllDirectories));

        // The .spack files are the tarballs themselves: each is now the blob named by its sha256, byte for byte.
        Assert.Equal(3, spackFiles.Count);
        var manifests = Directory.EnumerateFiles(Path.Combine(cache.Path, "v3/manifests/spec"), "*",
            SearchOption.AllDirectories).ToList();
        Assert.Equal(3, manifests.Count);
        Assert.All(manifests, m => Assert.StartsWith("-----BEGIN PGP SIGNED MESSAGE-----", File.ReadAllText(m),
            StringComparison.Ordinal));

        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring, "m")),
            new VerifyOptions([]), null, Token);
        Assert.Equal((3, 3), (verified.Checked, verified.Signed));
        Assert.Empty(verified.Failures);
        Assert.Equal(["v3"], (await Mirror.Of(store).GetLayoutsAsync(Token)).Select(l => l.Name));

        // Spack 1.x reads its index with the format-5 reader: the 0.21 nodes' compilers are annotations there.
        var index = (await new BuildCacheV3(store).ReadIndexAsync(Token))!;
        Assert.Equal(3, index.CachedSpecs.Count());
        Assert.All(index.Records, r =>
        {
            Assert.False(r.Spec.Json.TryGetProperty("compiler", out _));
            Assert.Equal("gcc@=12.2.0", r.Spec.Json.GetProperty("annotations").GetProperty("compiler").GetString());
            Assert.Equal(new Depot.Specs.NodeCompiler("gcc", "12.2.0"), r.Spec.Compiler);
        });

        using var root = new TempDir();
        var installed = await InstallOperationTests.InstallAsync(
            Mirror.Of(store, TestData.Trusting(keyring, "m")), new PlainRootTarget(Path.Combine(root.Path, "r")),
            "greet");
        Assert.False(installed.AnyFailed, string.Join("; ", installed.Outcomes.Select(o => o.Reason)));
        var greet = installed.Outcomes.Single(o => o.Name == "greet").Prefix!;
        Assert.Equal("Hello, world.", InstallOperationTests.Run(Path.Combine(greet, "bin/greet")));
    }

    [Fact]
    public async Task TarballsBecomeContentAddressedBlobsUnchanged()
    {
        using var cache = TestData.Copy(TestData.V2Unsigned);
        var sums = Directory.EnumerateFiles(Path.Combine(cache.Path, "build_cache"), "*.spack",
            SearchOption.AllDirectories).Select(f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))))
            .ToList();
        var result = await MigrateAsync(new LocalDirectoryStore(cache.Path), null);
        Assert.Equal(3, result.Count(CopyStatus.Converted));
        Assert.Null(result.PublishedKey);
        foreach (var sum in sums)
        {
            var blob = Path.Combine(cache.Path, "blobs/sha256", sum[..2], sum);
            Assert.Equal(sum, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(blob))));
        }

        Assert.All(Directory.EnumerateFiles(Path.Combine(cache.Path, "v3/manifests/spec"), "*",
            SearchOption.AllDirectories), m => Assert.StartsWith("{", File.ReadAllText(m), StringComparison.Ordinal));
        // Kept: the old layout stays unless asked.
        Assert.Equal(3, Directory.EnumerateFiles(Path.Combine(cache.Path, "build_cache"), "*.spec.json").Count());
    }

    [Fact]
    public async Task ASecondRunDoesNothing()
    {
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        using var cache = TestData.Copy(TestData.V2Signed);
        var store = new LocalDirectoryStore(cache.Path);
        Assert.Equal(3, (await MigrateAsync(store, keyring)).Count(CopyStatus.Converted));
        var before = Snapshot(cache.Path);

        var again = await MigrateAsync(store, keyring);
        Assert.True(again.NothingDone);
        Assert.Equal(3, again.Count(CopyStatus.SkippedExists));
        Assert.All(again.Outcomes, o => Assert.Equal("already in layout v3", o.Reason));
        Assert.Equal(before, Snapshot(cache.Path));
    }

    [Fact]
    public async Task ARunCancelledMidwayIsCompletedByTheNext()
    {
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        using var cache = TestData.Copy(TestData.V2Signed);
        var store = new LocalDirectoryStore(cache.Path);
        // Writes of the first entry: tarball blob (staged commit), spec blob, manifest, layout.json; cancel in the
        // second entry's.
        var cancelling = new CancellingStore(store, StoreCall.Write, 6);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => MigrateAsync(cancelling, keyring, token: cancelling.Source.Token));
        Assert.True(cancelling.Fired);
        var manifests = Path.Combine(cache.Path, "v3/manifests/spec");
        var done = Directory.EnumerateFiles(manifests, "*", SearchOption.AllDirectories).Count();
        Assert.InRange(done, 1, 2);
        Assert.False(File.Exists(Path.Combine(cache.Path, BuildCacheV3.IndexManifestKey)));

        var rerun = await MigrateAsync(store, keyring);
        Assert.False(rerun.AnyFailed, string.Join("; ", rerun.Outcomes.Select(o => o.Reason)));
        Assert.Equal((3 - done, done), (rerun.Count(CopyStatus.Converted), rerun.Count(CopyStatus.SkippedExists)));
        Assert.Equal(3, rerun.Index!.Specs);
        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring, "m")),
            new VerifyOptions([]), null, Token);
        Assert.Equal(3, verified.Checked);
        Assert.Empty(verified.Failures);
    }

    [Fact]
    public async Task ARunKilledBeforeItsIndexIsIndexedByTheNext()
    {
        using var cache = TestData.Copy(TestData.V2Unsigned);
        var store = new LocalDirectoryStore(cache.Path);
        await MigrateAsync(store, null);
        File.Delete(Path.Combine(cache.Path, BuildCacheV3.IndexManifestKey));

        var rerun = await MigrateAsync(store, null);
        Assert.Equal(3, rerun.Count(CopyStatus.SkippedExists));
        Assert.False(rerun.NothingDone);
        Assert.Equal(3, rerun.Index!.Specs);
        Assert.True((await MigrateAsync(store, null)).NothingDone);
    }

    [Fact]
    public async Task UnsignedEntriesFailASignedMigrationAndTheOldLayoutIsKept()
    {
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        using var cache = TestData.Copy(TestData.V2Unsigned);
        var result = await MigrateAsync(new LocalDirectoryStore(cache.Path), keyring, deleteOld: true);
        Assert.Equal(3, result.Count(CopyStatus.Failed));
        Assert.All(result.Outcomes, o => Assert.Contains("not signed", o.Reason, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(0, result.DeletedOld);
        Assert.Equal(3, Directory.EnumerateFiles(Path.Combine(cache.Path, "build_cache"), "*.spec.json").Count());
    }

    [Fact]
    public async Task AMirrorWithoutTheOldLayoutHasNothingToMigrate()
    {
        using var cache = TestData.Copy(TestData.V3Unsigned);
        var result = await MigrateAsync(new LocalDirectoryStore(cache.Path), null);
        Assert.False(result.HadOldLayout);
        Assert.True(result.NothingDone);
    }

    private static Dictionary<string, (long, DateTime)> Snapshot(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => f,
            f => (new FileInfo(f).Length, File.GetLastWriteTimeUtc(f)));
}
