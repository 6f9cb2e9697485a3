using Depot.Cli;
using Depot.Configuration;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;
using Depot.Tests.Signing;

namespace Depot.Tests.Operations;

/// <summary>
/// The one place a mirror is resolved: <see cref="EngineContext"/> opens it, <see cref="Mirror"/> keeps its layouts,
/// trust policy, signing choice and layout choice; <see cref="SigningChoice"/> and <see cref="PushLayouts"/> hold the
/// rules push and copy share.
/// </summary>
public sealed class MirrorTests : IDisposable
{
    private readonly TempDir home = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private DepotHome Home => new(home.Path);

    public void Dispose() => home.Dispose();

    [Theory]
    [InlineData(false, null, null, true)] // default: signed
    [InlineData(false, null, true, true)]
    [InlineData(false, null, false, false)] // the mirror says signed: false
    [InlineData(false, "6640D90F", false, true)] // a named key wins over signed: false
    [InlineData(true, null, null, false)] // --unsigned wins over everything
    [InlineData(true, null, true, false)]
    public void SigningIsUnsignedElseANamedKeyElseTheMirrorsSetting(bool unsigned, string? key, bool? configuredSigned,
        bool signs)
    {
        var configured = configuredSigned is null ? null : new MirrorConfig { Url = "/m", Signed = configuredSigned };
        Assert.Equal(signs, SigningChoice.Wanted(new MirrorWriteOptions(unsigned, key), configured));
    }

    [Fact]
    public void UnsignedAndAKeyContradictEachOther()
    {
        var e = Assert.Throws<DepotException>(() => SigningChoice.Wanted(new MirrorWriteOptions(Unsigned: true,
            Key: "6640D90F"), null));
        Assert.Equal("--unsigned and --key contradict each other", e.Message);
        Assert.Throws<DepotException>(() => new MirrorWriteOptions(Unsigned: true, Key: "6640D90F").Validate());
    }

    [Fact]
    public void ASignedChoiceCarriesTheKeyringsKeyAndItsPublicKeyToPublish()
    {
        var keyring = TestData.FixtureKeyring(home.Path);

        var choice = SigningChoice.Decide(Home, new MirrorWriteOptions(), null);

        Assert.True(choice.Signs);
        Assert.Equal(SignatureTests.FixtureFingerprint, SignatureVerifier.Fingerprint(choice.Key!.PublicKey));
        Assert.Equal(SignatureTests.FixtureFingerprint, choice.Published!.Fingerprint);
        Assert.Equal(keyring.ExportPublic(SignatureTests.FixtureFingerprint), choice.Published.Armored);
        Assert.Same(SigningChoice.Unsigned, SigningChoice.Decide(Home, new MirrorWriteOptions(Unsigned: true), null));
    }

    [Fact]
    public void AnUnsignedMirrorNeedsNoKeyAndASignedOneRefusesToOpenWithoutOne()
    {
        using var mirror = new TempDir();
        var config = new DepotConfig();
        config.Mirrors["plain"] = new MirrorConfig { Url = mirror.Path, Signed = false };
        config.Mirrors["signed"] = new MirrorConfig { Url = mirror.Path + "/signed" };
        config.Save(Home.ConfigFile);
        var engine = new EngineContext(Home, ShippedStores.Providers);

        var plain = engine.OpenForWrite("plain", new MirrorWriteOptions());
        Assert.False(plain.Signing.Signs);
        Assert.Equal("plain", plain.ConfiguredName);
        Assert.Equal(MirrorPurpose.Write, plain.Purpose);
        var e = Assert.Throws<DepotException>(() => engine.OpenForWrite("signed", new MirrorWriteOptions()));
        Assert.StartsWith("no signing key", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v3", PushLayout.V3)]
    [InlineData("v2", PushLayout.V2)]
    [InlineData("v2-0.22", PushLayout.V2Spack022)]
    [InlineData(null, null)]
    public void LayoutNamesAreTheOnesUsersType(string? name, PushLayout? layout) => Assert.Equal(layout,
        PushLayouts.Parse(name));

    [Fact]
    public void AnUnknownLayoutNameIsRefused() =>
        Assert.Equal("layout 'v4' is not one of v3, v2, v2-0.22",
            Assert.Throws<DepotException>(() => PushLayouts.Parse("v4")).Message);

    [Fact]
    public async Task WritesKeepTheMirrorsLayoutV3WhenNewOrBothAndTheAskedOneWithoutDetecting()
    {
        using var empty = new TempDir();
        using var both = TestData.Copy(TestData.V2Unsigned);
        Directory.CreateDirectory(Path.Combine(both.Path, "v3"));
        File.WriteAllText(Path.Combine(both.Path, BuildCacheV3.LayoutKey), "{\"signing\": \"gpg\"}");
        var counts = new CountingMirrorAccess();
        var engine = new EngineContext(Home, ShippedStores.Providers, counts.Access);
        var unsigned = new MirrorWriteOptions(Unsigned: true);

        Assert.Equal(PushLayout.V3, await engine.OpenForWrite(empty.Path, unsigned).GetWriteLayoutAsync(Token));
        Assert.Equal(PushLayout.V2, await engine.OpenForWrite(TestData.Path(TestData.V2Unsigned),
            unsigned).GetWriteLayoutAsync(Token));
        Assert.Equal(PushLayout.V3, await engine.OpenForWrite(TestData.Path(TestData.V3Unsigned),
            unsigned).GetWriteLayoutAsync(Token));
        Assert.Equal(PushLayout.V3, await engine.OpenForWrite(both.Path, unsigned).GetWriteLayoutAsync(Token));
        var asked = engine.OpenForWrite(TestData.Path(TestData.V3Signed),
            unsigned with { Layout = PushLayout.V2Spack022 });
        Assert.Equal(PushLayout.V2Spack022, await asked.GetWriteLayoutAsync(Token));

        Assert.Equal(1, counts.RegistryLoads);
        Assert.DoesNotContain(TestData.Path(TestData.V3Signed), counts.Detections.Keys);
        Assert.Equal(4, counts.Detections.Count);
        Assert.All(counts.Detections.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task ARegistryIsWrittenInSpacksOciLayoutWithoutAsking()
    {
        var reference = Depot.Storage.Oci.OciReference.Parse("oci+http://127.0.0.1:9/never/contacted");
        using var registry = new Depot.Storage.Oci.OciStore(reference);
        Assert.Equal(PushLayout.Oci, await Mirror.Of(registry).GetWriteLayoutAsync(Token));
    }

    [Fact]
    public async Task LayoutsAreDetectedOnceAndAFailureIsKept()
    {
        using var empty = new TempDir();
        var counts = new CountingMirrorAccess();
        var engine = new EngineContext(Home, ShippedStores.Providers, counts.Access);
        var full = engine.OpenForRead(TestData.Path(TestData.V3Unsigned));
        var none = engine.OpenForRead(empty.Path);

        Assert.Same(await full.GetLayoutsAsync(Token), await full.GetLayoutsAsync(Token));
        await Assert.ThrowsAsync<NoBuildCacheException>(() => none.GetLayoutsAsync(Token));
        await Assert.ThrowsAsync<NoBuildCacheException>(() => none.GetLayoutsAsync(Token));
        await ListOperation.RunAsync(full, new ListOptions([]), null, Token);
        await VerifyOperation.RunAsync(engine.OpenForRead(TestData.Path(TestData.V3Unsigned), noVerify: true),
            new VerifyOptions([]), null, Token);

        Assert.Equal(1, counts.RegistryLoads);
        Assert.Equal(2, counts.Detections.Count);
        Assert.Equal(2,
            counts.Detections[TestData.Path(TestData.V3Unsigned)]); // once for each of the two mirrors opened on it
        Assert.Equal(1, counts.Detections[empty.Path]);
    }

    [Fact]
    public async Task TrustIsBuiltOnceAndNoVerifyChecksNothing()
    {
        var engine = new EngineContext(Home, ShippedStores.Providers);
        var verified = engine.OpenForRead(TestData.Path(TestData.V3Signed));
        var trust = await verified.GetTrustAsync(Token);
        Assert.Same(trust, await verified.GetTrustAsync(Token));
        Assert.True(trust.RequireSignature);
        Assert.Equal(0, trust.Verifier!.KeyCount); // an empty keyring: nothing is trusted yet

        var noChecks = await engine.OpenForRead(TestData.Path(TestData.V3Signed), noVerify: true).GetTrustAsync(Token);
        Assert.Null(noChecks.Verifier);
        Assert.False(noChecks.RequireSignature);
    }

    [Fact]
    public void AMirrorOpenedWithoutTrustRefusesToMakeOneUp()
    {
        using var store = new TempDir();
        // Thrown at the call, not in a task: a programming error, never a mirror's fault.
        var bare = Mirror.Of(new LocalDirectoryStore(store.Path));
        Assert.Throws<InvalidOperationException>(() => { _ = bare.GetTrustAsync(Token); });
        var opened = new EngineContext(Home, ShippedStores.Providers).Open(store.Path, MirrorPurpose.Read);
        Assert.Throws<InvalidOperationException>(() => { _ = opened.GetTrustAsync(Token); });
    }
}
