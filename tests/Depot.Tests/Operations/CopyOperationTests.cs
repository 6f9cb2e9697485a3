using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;
using Depot.Storage.Oci;
using Depot.Tests.Storage;

namespace Depot.Tests.Operations;

/// <summary><c>depot copy</c> between a directory and a real registry, both ways, verified on the way.</summary>
public sealed class CopyOperationTests(DockerRegistry registry) : IClassFixture<DockerRegistry>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<VerifyResult> VerifyAsync(IObjectStore store, TrustPolicy trust) =>
        await VerifyOperation.RunAsync(Mirror.Of(store, trust), new VerifyOptions([]), null, Token);

    [Fact]
    public async Task V3FixtureIntoARegistryAndBackVerifies()
    {
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        var key = keyring.SigningKey();
        using var source = TestData.InstallableV3(TestData.V3Signed);
        using var oci = new OciStore(OciReference.Parse(registry.Url("copy/r" + Guid.NewGuid().ToString("N")[..8])));

        var there = await CopyOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(source.Path),
            TestData.Trusting(keyring, "v3")),
            Mirror.Of(oci, signing: new SigningChoice(key, null)), new CopyOptions([]), null, Token);
        Assert.False(there.AnyFailed, string.Join("; ", there.Outcomes.Select(o => o.Reason)));
        Assert.Equal(5, there.Count(CopyStatus.Converted));
        Assert.Equal(PushLayout.Oci, there.Layout);
        var inRegistry = await VerifyAsync(oci, TestData.Trusting(keyring, "oci"));
        Assert.Equal((5, 5), (inRegistry.Checked, inRegistry.Signed));
        Assert.Empty(inRegistry.Failures);

        using var back = new TempDir();
        var store = new LocalDirectoryStore(back.Path);
        var returned = await CopyOperation.RunAsync(Mirror.Of(oci, TestData.Trusting(keyring, "oci")), Mirror.Of(store,
            signing: new SigningChoice(key, null)),
            new CopyOptions([]), null, Token);
        Assert.False(returned.AnyFailed, string.Join("; ", returned.Outcomes.Select(o => o.Reason)));
        Assert.Equal(PushLayout.V3, returned.Layout);
        var verified = await VerifyAsync(store, TestData.Trusting(keyring, back.Path));
        Assert.Equal((5, 5), (verified.Checked, verified.Signed));
        Assert.Empty(verified.Failures);

        // The tarballs made the round trip unchanged (content-addressed: the same blob keys as in the original mirror).
        var tarballs = TarballKeys(source.Path);
        Assert.Equal(5, tarballs.Count);
        Assert.Equal(tarballs.Order(), TarballKeys(back.Path).Order());
        Assert.All(tarballs,
            t => Assert.Equal(File.ReadAllBytes(Path.Combine(source.Path, t)),
                File.ReadAllBytes(Path.Combine(back.Path, t))));

        var again = await CopyOperation.RunAsync(Mirror.Of(oci, TestData.Trusting(keyring, "oci")), Mirror.Of(store,
            signing: new SigningChoice(key, null)),
            new CopyOptions([]), null, Token);
        Assert.Equal(5, again.Count(CopyStatus.SkippedExists));
    }

    [Fact]
    public async Task SameLayoutCopiesKeepTheOriginalSignedManifests()
    {
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        using var source = TestData.InstallableV3(TestData.V3Signed);
        using var target = new TempDir();
        var result = await CopyOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(source.Path),
            TestData.Trusting(keyring, "v3")),
            Mirror.Of(new LocalDirectoryStore(target.Path)),
                new CopyOptions([Depot.Specs.SpecQuery.Parse("greet-data")]), null, Token);
        Assert.Equal(CopyStatus.Copied, Assert.Single(result.Outcomes).Status);
        var manifest = Directory.EnumerateFiles(Path.Combine(source.Path, "v3/manifests/spec/greet-data")).Single();
        Assert.Equal(File.ReadAllBytes(manifest),
            File.ReadAllBytes(Path.Combine(target.Path, Path.GetRelativePath(source.Path, manifest))));
    }

    [Fact]
    public async Task ARegistryTakesOnlyTheOciLayoutAndNothingIsWritten()
    {
        using var oci = new OciStore(OciReference.Parse(registry.Url("copy/l" + Guid.NewGuid().ToString("N")[..8])));
        var source = new LocalDirectoryStore(TestData.Path(TestData.V3Unsigned));
        var e = await Assert.ThrowsAsync<DepotException>(() => CopyOperation.RunAsync(
            Mirror.Of(source, TrustPolicy.None("v3")),
            Mirror.Of(oci, layout: PushLayout.V3, purpose: MirrorPurpose.Write), new CopyOptions([]), null, Token));
        Assert.Contains("a registry holds Spack's OCI layout only", e.Message, StringComparison.Ordinal);
        Assert.Empty(await oci.Registry.ListTagsAsync(Token).ToListAsync(Token));
    }

    [Fact]
    public async Task ATamperedTarballIsNotCopied()
    {
        using var source = TestData.Copy(TestData.V3Unsigned);
        var manifest = Directory.EnumerateFiles(Path.Combine(source.Path, "v3/manifests/spec/greet-data")).Single();
        var tarball = Path.Combine(source.Path,
            BuildCacheManifest.Parse(File.ReadAllBytes(manifest), manifest).Find(MediaTypes.Tarball)!.BlobKey);
        var bytes = File.ReadAllBytes(tarball);
        bytes[^10] ^= 0xff;
        File.WriteAllBytes(tarball, bytes);

        using var oci = new OciStore(OciReference.Parse(registry.Url("copy/t" + Guid.NewGuid().ToString("N")[..8])));
        var result = await CopyOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(source.Path),
            TrustPolicy.None("v3")), Mirror.Of(oci),
            new CopyOptions([Depot.Specs.SpecQuery.Parse("greet-data")]), null, Token);
        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal(CopyStatus.Failed, outcome.Status);
        Assert.Contains("checksum mismatch", outcome.Reason, StringComparison.Ordinal);
        Assert.Empty(await oci.Registry.ListTagsAsync(Token).ToListAsync(Token)); // nothing half-written
    }

    private static List<string> TarballKeys(string mirror) =>
        Directory.EnumerateFiles(Path.Combine(mirror, "v3/manifests/spec"), "*", SearchOption.AllDirectories)
            .Select(m => BuildCacheManifest.Parse(File.ReadAllBytes(m), m).Find(MediaTypes.Tarball)!.BlobKey).ToList();
}
