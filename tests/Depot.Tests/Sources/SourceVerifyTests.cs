using Depot.Operations;
using Depot.Signing;
using Depot.Sources;
using Depot.Storage;

namespace Depot.Tests.Sources;

/// <summary>
/// <c>depot verify</c> on a mirror with a source half: every archive against the digest in its name, a line per bad
/// one; keys Spack would not write are failures; checkouts counted, not checked; the build cache beside the sources
/// is verified as before, and either half can be left out.
/// </summary>
public sealed class SourceVerifyTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<LocalDirectoryStore> PushedAsync(FakeSpackSources sources, string root)
    {
        var store = new LocalDirectoryStore(root);
        var pushed = await SourcePushOperation.RunAsync(Mirror.Of(store, purpose: MirrorPurpose.Write), sources.Cache,
            new SourceTransferOptions(), null, Token);
        Assert.False(pushed.AnyFailed);
        return store;
    }

    [Fact]
    public async Task ACorruptedArchiveIsOneFailureNamingItAndWhatItHolds()
    {
        using var sources = new FakeSpackSources();
        using var mirror = new TempDir();
        var store = await PushedAsync(sources, mirror.Path);
        var (key, bytes, _) = sources.Archives[1];
        var corrupted = bytes.ToArray();
        corrupted[20] ^= 1;
        await store.WriteAllBytesAsync(key, corrupted, Token);
        await store.WriteAllTextAsync("_source-cache/archive/ab/zlib-1.3.1.tar.gz", "stray", Token);

        var result = await VerifyOperation.RunAsync(Mirror.Of(store), new VerifyOptions([]), null, Token);

        Assert.False(result.Ok);
        var sourcesResult = result.Sources!;
        Assert.Equal((2, 1, 1), (sourcesResult.Checked, sourcesResult.Good, sourcesResult.NotCheckable));
        Assert.Equal(2, sourcesResult.Failures.Count);
        var bad = Assert.Single(sourcesResult.Failures, f => f.Location == key);
        Assert.Equal(ErrorKind.InvalidContent, bad.Kind);
        Assert.StartsWith($"{store.Describe(key)}: checksum mismatch: the name says sha256 ", bad.Message,
            StringComparison.Ordinal);
        Assert.EndsWith($", the content ({corrupted.Length} bytes) is sha256 "
            + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(corrupted)), bad.Message,
            StringComparison.Ordinal);
        var stray = Assert.Single(sourcesResult.Failures, f => f.Location.EndsWith("zlib-1.3.1.tar.gz",
            StringComparison.Ordinal));
        Assert.Contains("is not named by a md5, sha1, sha224, sha256, sha384 or sha512 hex digest", stray.Message,
            StringComparison.Ordinal);
        Assert.EndsWith("(Spack never fetches it)", stray.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABuildCacheBesideTheSourcesIsVerifiedTooAndEitherHalfCanBeLeftOut()
    {
        using var sources = new FakeSpackSources();
        using var mirror = TestData.InstallableV3(TestData.V3Signed);
        using var home = new TempDir();
        var trust = TestData.Trusting(TestData.FixtureKeyring(home.Path), "v3");
        var store = await PushedAsync(sources, mirror.Path);

        var both = await VerifyOperation.RunAsync(Mirror.Of(store, trust), new VerifyOptions([]), null, Token);
        Assert.True(both.Ok, string.Join("; ", both.Failures.Select(f => f.Message)));
        Assert.True(both.BuildCacheChecked);
        Assert.Equal((5, 2), (both.Checked, both.Sources!.Checked));

        var cacheOnly = await VerifyOperation.RunAsync(Mirror.Of(store, trust),
            new VerifyOptions([]) { Parts = VerifyParts.BuildCache }, null, Token);
        Assert.Equal(5, cacheOnly.Checked);
        Assert.Null(cacheOnly.Sources);

        // Spec queries narrow the run to entries: the sources are left out.
        var queried = await VerifyOperation.RunAsync(Mirror.Of(store, trust),
            new VerifyOptions([Depot.Specs.SpecQuery.Parse("greet")]), null, Token);
        Assert.Null(queried.Sources);

        var progress = new List<OperationProgress>();
        var sourcesOnly = await VerifyOperation.RunAsync(Mirror.Of(store, trust),
            new VerifyOptions([]) { Parts = VerifyParts.Sources }, new SyncProgress<OperationProgress>(progress.Add),
            Token);
        Assert.False(sourcesOnly.BuildCacheChecked);
        Assert.Equal((0, 2), (sourcesOnly.Checked, sourcesOnly.Sources!.Checked));
        Assert.Equal(new OperationProgress("sources", 2, 2), progress[^1]);
    }

    [Fact]
    public async Task OnlySourcesAskedOfAMirrorWithoutThemIsNotFound()
    {
        using var mirror = TestData.InstallableV3(TestData.V3Signed);
        var e = await Assert.ThrowsAsync<DepotException>(() => VerifyOperation.RunAsync(
            Mirror.Of(new LocalDirectoryStore(mirror.Path), TrustPolicy.None("v3")),
            new VerifyOptions([]) { Parts = VerifyParts.Sources }, null, Token));
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.EndsWith(": no source mirror here (nothing under _source-cache/)", e.Message, StringComparison.Ordinal);
    }
}
