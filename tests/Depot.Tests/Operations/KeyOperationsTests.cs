using System.Text.Json;
using Depot.Configuration;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;
using Depot.Tests.Signing;

namespace Depot.Tests.Operations;

public class KeyOperationsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PublishingToAV3MirrorWritesKeyManifestsAndTheKeyIndexLikeSpack()
    {
        using var home = new TempDir();
        using var mirror = TestData.Copy(TestData.V3Unsigned);
        var depotHome = new DepotHome(home.Path);
        TestData.FixtureKeyring(home.Path);

        var published = await KeyOperations.PublishAsync(depotHome, Mirror.Of(new LocalDirectoryStore(mirror.Path)),
            [], Token);

        Assert.Equal(SignatureTests.FixtureFingerprint, Assert.Single(published).Fingerprint);
        // Spack's own signed mirror holds exactly these bytes for the same key.
        foreach (var key in new[] { "v3/manifests/key/keys.manifest.json",
            $"v3/manifests/key/{SignatureTests.FixtureFingerprint}.key.manifest.json" })
        {
            Assert.Equal(File.ReadAllText(TestData.Path(TestData.V3Signed + "/" + key)),
                File.ReadAllText(mirror.Combine(key)));
        }

        Assert.Equal(File.ReadAllBytes(TestData.Path(TestData.V3Signed
            + "/blobs/sha256/14/147ca9f5a27889d2101b4906b5fa3bd4b9c1a95d83f5147ea9cb4a672499f0ee")),
            File.ReadAllBytes(
                mirror.Combine("blobs/sha256/14/147ca9f5a27889d2101b4906b5fa3bd4b9c1a95d83f5147ea9cb4a672499f0ee")));
    }

    [Fact]
    public async Task PublishingToAV2MirrorWritesPgpFolderLikeSpack()
    {
        using var home = new TempDir();
        using var mirror = TestData.Copy(TestData.V2Unsigned);
        var depotHome = new DepotHome(home.Path);
        Keyring.Open(depotHome.KeysFolder)
            .Import(File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")), "public.asc", "test");

        await KeyOperations.PublishAsync(depotHome, Mirror.Of(new LocalDirectoryStore(mirror.Path)),
            [SignatureTests.FixtureFingerprint], Token);

        Assert.Equal(File.ReadAllText(TestData.Path(TestData.V2Signed + "/build_cache/_pgp/index.json")),
            File.ReadAllText(mirror.Combine("build_cache/_pgp/index.json")));
        var pub = File.ReadAllText(mirror.Combine($"build_cache/_pgp/{SignatureTests.FixtureFingerprint}.pub"));
        Assert.Equal(File.ReadAllText(TestData.Path(TestData.V2Signed
            + $"/build_cache/_pgp/{SignatureTests.FixtureFingerprint}.pub")), pub);
    }

    [Fact]
    public async Task APublishedKeyIsReadBackAndTrustedByFingerprint()
    {
        using var producerHome = new TempDir();
        using var consumerHome = new TempDir();
        using var mirror = new TempDir();
        var producer = new DepotHome(producerHome.Path);
        var created = Keyring.Open(producer.KeysFolder)
            .Create("Producer", "producer@example.invalid", null, null, KeyAlgorithm.Ed25519);
        var store = new LocalDirectoryStore(mirror.Path);
        await KeyOperations.PublishAsync(producer, Mirror.Of(store), [], Token);
        Assert.True(File.Exists(mirror.Combine("v3/layout.json")));

        var consumer = new DepotHome(consumerHome.Path);
        var wrong = "AAAA" + created.Fingerprint[4..];
        var refused = await Assert.ThrowsAsync<DepotException>(() => KeyOperations.TrustMirrorKeysAsync(consumer,
            Mirror.Of(store, name: mirror.Path), wrong, Token));
        Assert.Contains("publishes no key with fingerprint " + wrong, refused.Message, StringComparison.Ordinal);
        Assert.Empty(Keyring.Open(consumer.KeysFolder).List());

        var trusted = await KeyOperations.TrustMirrorKeysAsync(consumer, Mirror.Of(store, name: mirror.Path),
            created.Fingerprint, Token);
        Assert.Equal(created.Fingerprint, Assert.Single(trusted).Fingerprint);
        Assert.False(Keyring.Open(consumer.KeysFolder).List()[0].HasSecret);
        Assert.Equal(mirror.Path, Keyring.Open(consumer.KeysFolder).List()[0].Source);
    }

    [Fact]
    public async Task TrustingAConfiguredMirrorPinsTheFingerprint()
    {
        using var home = new TempDir();
        var depotHome = new DepotHome(home.Path);
        var config = new DepotConfig();
        config.Mirrors["fixtures"] = new MirrorConfig { Url = "file://" + TestData.Path(TestData.V3Signed) };
        config.Save(depotHome.ConfigFile);

        await KeyOperations.TrustMirrorKeysAsync(depotHome,
            Mirror.Of(new LocalDirectoryStore(TestData.Path(TestData.V3Signed)), name: "fixtures"), null,
            Token);

        Assert.Equal([SignatureTests.FixtureFingerprint],
            DepotConfig.Load(depotHome.ConfigFile).Mirrors["fixtures"].TrustedFingerprints);
    }

    [Fact]
    public async Task WhatAMirrorAddsToAKeyIsNeitherShownNorTrusted()
    {
        using var home = new TempDir();
        using var mirror = TestData.Copy(TestData.V2Signed);
        var original = File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc"));
        var tampered = RogueKeys.WithUnboundSubkey(SignatureTests.FixturePublicKey(),
            RogueKeys.Create().GetPublicKey());
        var fakeId = new Org.BouncyCastle.Bcpg.UserIdPacket("Spack Official Builds <builds@example.invalid>")
            .GetEncoded();
        var encoded = tampered.GetEncoded();
        var firstSubkey = encoded.Length - tampered.GetPublicKeys().Cast<Org.BouncyCastle.Bcpg.OpenPgp.PgpPublicKey>()
            .Last().PublicKeyPacket.GetEncoded().Length;
        var withFakeId = new Org.BouncyCastle.Bcpg.OpenPgp.PgpPublicKeyRing([.. encoded[..firstSubkey], .. fakeId,
            .. encoded[firstSubkey..]]);
        Assert.Equal(2, withFakeId.GetPublicKey().GetUserIds().Count());
        File.WriteAllText(mirror.Combine($"build_cache/_pgp/{SignatureTests.FixtureFingerprint}.pub"),
            RogueKeys.Armored(withFakeId));
        var store = new LocalDirectoryStore(mirror.Path);

        var (info, armored) = Assert.Single(await KeyOperations.ReadMirrorKeysAsync(Mirror.Of(store), Token));
        Assert.Equal(["Depot Fixture Key 1.2 (GPG created for Spack) <depot-fixture-12@example.invalid>"],
            info.UserIds);
        Assert.Equal(original, armored);

        await KeyOperations.TrustMirrorKeysAsync(new DepotHome(home.Path), Mirror.Of(store, name: mirror.Path),
            SignatureTests.FixtureFingerprint,
            Token);
        Assert.Equal(original,
            Keyring.Open(new DepotHome(home.Path).KeysFolder).ExportPublic(SignatureTests.FixtureFingerprint));
    }

    [Fact]
    public async Task AKeyFiledUnderTheWrongFingerprintIsRefused()
    {
        using var home = new TempDir();
        using var mirror = TestData.Copy(TestData.V2Signed);
        var fake = "0123456789ABCDEF0123456789ABCDEF01234567";
        File.Move(mirror.Combine($"build_cache/_pgp/{SignatureTests.FixtureFingerprint}.pub"),
            mirror.Combine($"build_cache/_pgp/{fake}.pub"));
        File.WriteAllText(mirror.Combine("build_cache/_pgp/index.json"),
            JsonSerializer.Serialize(new { keys = new Dictionary<string, object> { [fake] = new { } } }));
        var e = await Assert.ThrowsAsync<InvalidContentException>(() =>
            KeyOperations.TrustMirrorKeysAsync(new DepotHome(home.Path),
                Mirror.Of(new LocalDirectoryStore(mirror.Path), name: mirror.Path), fake, Token));
        Assert.Contains($"filed under fingerprint {fake} but the key inside is {SignatureTests.FixtureFingerprint}",
            e.Message, StringComparison.Ordinal);
    }
}
