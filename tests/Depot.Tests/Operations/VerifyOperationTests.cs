using Depot.Cli;
using Depot.Configuration;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Depot.Tests.Signing;

namespace Depot.Tests.Operations;

public class VerifyOperationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private const string GreetManifest =
        "v3/manifests/spec/greet/greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug.spec.manifest.json";

    private static TrustPolicy FixtureTrust(string mirror, bool require = true) =>
        new(mirror, new SignatureVerifier([SignatureTests.FixturePublicKey()]), require);

    private static async Task<VerifyResult> VerifyAsync(string mirror, TrustPolicy trust, params string[] queries)
    {
        var store = new LocalDirectoryStore(mirror);
        var layouts = await BuildCache.DetectAsync(store, Token);
        return await VerifyOperation.RunAsync(Mirror.Of(store, trust),
            new VerifyOptions(queries.Select(SpecQuery.Parse).ToList()), null, Token);
    }

    [Fact]
    public async Task TheSpack021SignedMirrorVerifies()
    {
        var result = await VerifyAsync(TestData.Path(TestData.V2Signed), FixtureTrust("m"));
        Assert.True(result.Ok, string.Join('\n', result.Failures));
        Assert.Equal((3, 3), (result.Checked, result.Signed));
    }

    [Fact]
    public async Task TheSpack12SignedMirrorVerifiesExceptTheTarballLeftOutOfTheRepository()
    {
        var result = await VerifyAsync(TestData.Path(TestData.V3Signed), FixtureTrust("m"));
        Assert.Equal((5, 5), (result.Checked, result.Signed));
        var failure = Assert.Single(result.Failures).Message;
        Assert.Contains("gcc-runtime-12.2.0/vkw5xvd", failure, StringComparison.Ordinal);
        Assert.Contains("tarball is missing", failure, StringComparison.Ordinal);
        Assert.True((await VerifyAsync(TestData.Path(TestData.V3Signed), FixtureTrust("m"), "greet", "libgreet",
            "greet-data")).Ok);

        using var installable = TestData.InstallableV3(TestData.V3Signed);
        Assert.Empty((await VerifyAsync(installable.Path, FixtureTrust("m"))).Failures);
    }

    [Fact]
    public async Task UnsignedMirrorsNeedExplicitConsent()
    {
        var refused = await VerifyAsync(TestData.Path(TestData.V3Unsigned), FixtureTrust("m"), "greet");
        Assert.Contains("not signed, and this mirror requires signatures", Assert.Single(refused.Failures).Message,
            StringComparison.Ordinal);
        Assert.True((await VerifyAsync(TestData.Path(TestData.V3Unsigned), FixtureTrust("m", require: false),
            "greet")).Ok);
        Assert.True((await VerifyAsync(TestData.Path(TestData.V2Unsigned), TrustPolicy.None("m"))).Ok);
    }

    [Fact]
    public async Task EachCorruptedEntryGetsOneLine()
    {
        using var copy = TestData.Copy(TestData.V2Signed);
        var sig = Directory.EnumerateFiles(copy.Combine("build_cache"), "*-greet-1.0.0-*.sig").Single();
        File.WriteAllText(sig,
            File.ReadAllText(sig).Replace("\"loud\":false", "\"loud\":true", StringComparison.Ordinal));
        var tarball = Directory.EnumerateFiles(copy.Combine("build_cache"), "*greet-data*.spack",
            SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(tarball);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(tarball, bytes);

        var result = await VerifyAsync(copy.Path, FixtureTrust("the-mirror"));

        Assert.Equal(3, result.Checked);
        Assert.Equal(2, result.Failures.Count);
        Assert.Contains(result.Failures,
            f => f.Message.StartsWith("the-mirror: linux-debian12-x86_64-gcc-12.2.0-greet-1.0.0/tnhxyee: ",
                StringComparison.Ordinal)
            && f.Message.Contains("BAD signature from key 06BD5C3F48A372CC", StringComparison.Ordinal));
        Assert.Contains(result.Failures, f => f.Message.Contains("greet-data", StringComparison.Ordinal)
            && f.Message.Contains("tarball checksum mismatch: expected sha256 "
                + "814d42af3e3594e94fd8e0a371cdcba82e23f4daa6cff115d386c76cd74a3ae7", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUntrustedKeyFailureSaysHowToTrustIt()
    {
        var result = await VerifyAsync(TestData.Path(TestData.V3Signed),
            new TrustPolicy("mirror-x", new SignatureVerifier([]), true), "greet");
        var failure = Assert.Single(result.Failures);
        Assert.StartsWith("mirror-x: greet-1.0.0/ilccysm: ", failure.Message, StringComparison.Ordinal);
        Assert.Contains("signed by key 06BD5C3F48A372CC", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("depot ", failure.Message, StringComparison.Ordinal); // the advice is the hint, not prose
        Assert.Equal(ErrorKind.Trust, failure.Kind);
        Assert.Equal(ErrorHint.TrustMirrorKey("mirror-x", "6640D90F8A1E84DD1142614C06BD5C3F48A372CC").Arguments,
            failure.Hint!.Arguments);
        Assert.Equal(HintAction.TrustMirrorKey, failure.Hint.Action);
    }

    [Fact]
    public async Task ATamperedV3BlobIsCaughtAfterTheSignatureChecksOut()
    {
        using var copy = TestData.Copy(TestData.V3Signed);
        var tarball = copy.Combine("blobs/sha256/2c/2c73d3a0d6bda497c14e96be4f083accce60c521ce2aa34ed810e69bf6982d25");
        File.AppendAllText(tarball, "x");
        var result = await VerifyAsync(copy.Path, FixtureTrust("m"), "greet");
        Assert.Contains("tarball checksum mismatch", Assert.Single(result.Failures).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PinnedFingerprintsInConfigRestrictWhichKeysCount()
    {
        using var home = new TempDir();
        var depotHome = new DepotHome(home.Path);
        var keyring = Keyring.Open(depotHome.KeysFolder);
        keyring.Import(File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")), "public.asc", "test");
        var mirror = TestData.Path(TestData.V3Signed);
        var config = new DepotConfig();
        config.Mirrors["fixtures"] = new MirrorConfig
        {
            Url = mirror,
            TrustedFingerprints = ["0000000000000000000000000000000000000000"],
        };
        config.Save(depotHome.ConfigFile);

        var pinnedElsewhere = await new EngineContext(depotHome, ShippedStores.Providers).OpenForRead("fixtures")
            .GetTrustAsync(Token);
        Assert.Equal(0, pinnedElsewhere.Verifier!.KeyCount);

        config.Mirrors["fixtures"].TrustedFingerprints = [SignatureTests.FixtureFingerprint];
        config.Save(depotHome.ConfigFile);
        keyring.Remove(SignatureTests.FixtureFingerprint);
        var pinned = await new EngineContext(depotHome, ShippedStores.Providers).OpenForRead(mirror)
            .GetTrustAsync(Token); // found by its URL
        Assert.Equal(1, pinned.Verifier!.KeyCount); // taken from the mirror's published key, fingerprint checked
        Assert.True((await VerifyAsync(mirror, pinned, "greet")).Ok);
    }
}
