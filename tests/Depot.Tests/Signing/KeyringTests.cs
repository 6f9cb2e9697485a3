using Depot.Configuration;
using Depot.Signing;

namespace Depot.Tests.Signing;

public class KeyringTests
{
    [Fact]
    public void CreatedKeysAreListedExportedAndKeptOwnerOnly()
    {
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        var key = keyring.Create("Team Cache", "cache@example.invalid", null, DateTimeOffset.UtcNow.AddYears(2),
            KeyAlgorithm.Ed25519);

        Assert.Equal(40, key.Fingerprint.Length);
        Assert.Equal("Team Cache <cache@example.invalid>", key.PrimaryUserId);
        Assert.NotNull(key.Expires);
        Assert.Equal(key.Fingerprint, Assert.Single(keyring.List(secretOnly: true)).Fingerprint);
        Assert.StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n", keyring.ExportPublic(key.KeyId),
            StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n", keyring.ExportSecret(key.Fingerprint[^8..]),
            StringComparison.Ordinal);
        var secretFile = Path.Combine(home.Path, "keys", "secret", key.Fingerprint + ".asc");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secretFile));
        Assert.Equal("created", key.Source);
    }

    [Fact]
    public void SpackExportedKeysImportWithTheirSecret()
    {
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        var imported = keyring.Import(File.ReadAllText(TestData.Path("spack-1.2/keys/secret.asc")), "secret.asc",
            "secret.asc");
        var key = Assert.Single(imported);
        Assert.Equal(SignatureTests.FixtureFingerprint, key.Fingerprint);
        Assert.True(key.HasSecret);
        Assert.Equal("rsa4096", key.Algorithm);
        Assert.Equal(key.KeyId, SignatureVerifierKeyId(keyring.SigningKey()));

        var other = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        other.Import(File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")), "public.asc", "again");
        Assert.Single(other.List());
        Assert.Equal("secret.asc", other.List()[0].Source);
    }

    [Fact]
    public void RemovedKeysAreGone()
    {
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        keyring.Import(File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")), "public.asc", "public.asc");
        Assert.False(keyring.List()[0].HasSecret);
        keyring.Remove("48A372CC");
        Assert.Empty(keyring.List());
        Assert.Throws<DepotException>(() => keyring.Find(SignatureTests.FixtureFingerprint));
    }

    [Fact]
    public void SigningKeySelectionFollowsSpacksRule()
    {
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        Assert.Contains("no signing key", Assert.Throws<DepotException>(() => keyring.SigningKey()).Message,
            StringComparison.Ordinal);
        keyring.Create("A", "a@example.invalid", null, null, KeyAlgorithm.Ed25519);
        keyring.Create("B", "b@example.invalid", null, null, KeyAlgorithm.Ed25519);
        Assert.Contains("several signing keys", Assert.Throws<DepotException>(() => keyring.SigningKey()).Message,
            StringComparison.Ordinal);
        var b = keyring.List().Single(k => k.PrimaryUserId.StartsWith('B'));
        Assert.Equal(b.KeyId, SignatureVerifierKeyId(keyring.SigningKey(b.Fingerprint)));
    }

    [Theory]
    [InlineData("not a key", "no OpenPGP key found")]
    [InlineData("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n", "x.asc: ")]
    public void BadKeyFilesAreOneLineErrors(string content, string expected)
    {
        using var home = new TempDir();
        var e = Assert.ThrowsAny<DepotException>(() => Keyring.Open(new DepotHome(home.Path).KeysFolder)
            .Import(content, "x.asc", "x.asc"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a<b")]
    [InlineData("")]
    public void BadNamesAreRefused(string name) =>
        Assert.Throws<DepotException>(() => KeyGenerator.Create(name, "x@example.invalid", null, null,
            KeyAlgorithm.Ed25519));

    private static string SignatureVerifierKeyId(Org.BouncyCastle.Bcpg.OpenPgp.PgpSecretKey key) =>
        key.KeyId.ToString("X16", System.Globalization.CultureInfo.InvariantCulture);
}
