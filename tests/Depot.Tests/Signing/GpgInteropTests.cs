using System.Text;
using Depot.Configuration;
using Depot.Signing;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Tests.Signing;

/// <summary>Real gpg 2.2 verifies what Depot signs, and Depot verifies what gpg signs.</summary>
public class GpgInteropTests
{
    private const string Manifest = "{\n\"version\":3,\n\"data\":[\n{\n\"contentLength\":1,"
        + "\n\"mediaType\":\"application/vnd.spack.spec.v5+json\"\n}\n]\n}";

    [Theory]
    [InlineData(KeyAlgorithm.Rsa2048)]
    [InlineData(KeyAlgorithm.Ed25519)]
    public void GpgVerifiesWhatDepotSignsWithADepotKey(KeyAlgorithm algorithm)
    {
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        var key = keyring.Create("Depot Interop", "interop@example.invalid", "test", null, algorithm);

        using var gpg = new GpgHome();
        File.WriteAllText(gpg.FilePath("key.asc"), keyring.ExportPublic(key.Fingerprint));
        gpg.RunOk("--import", gpg.FilePath("key.asc"));
        File.WriteAllText(gpg.FilePath("m.json.sig"), ClearSigner.Sign(Manifest, keyring.SigningKey()));

        var output = gpg.RunOk("--verify", gpg.FilePath("m.json.sig"));
        Assert.Contains("Good signature from \"Depot Interop (test) <interop@example.invalid>\"", output,
            StringComparison.Ordinal);
        Assert.Contains(key.Fingerprint, output.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);

        File.WriteAllText(gpg.FilePath("bad.json.sig"),
            File.ReadAllText(gpg.FilePath("m.json.sig"))
                .Replace("\"contentLength\":1", "\"contentLength\":2", StringComparison.Ordinal));
        var (code, bad) = gpg.Run("--verify", gpg.FilePath("bad.json.sig"));
        Assert.NotEqual(0, code);
        Assert.Contains("BAD signature", bad, StringComparison.Ordinal);
    }

    [Fact]
    public void DepotVerifiesWhatGpgSigns()
    {
        using var gpg = new GpgHome();
        gpg.RunOk("--quick-gen-key", "Gpg Made <gpg@example.invalid>", "rsa2048", "sign", "never");
        File.WriteAllText(gpg.FilePath("m.json"), Manifest);
        gpg.RunOk("--local-user", "gpg@example.invalid", "--clearsign", "-o", gpg.FilePath("m.json.sig"),
            gpg.FilePath("m.json"));
        var exported = gpg.RunOk("--armor", "--export", "gpg@example.invalid");

        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        var imported = Assert.Single(keyring.Import(exported, "gpg export", "gpg"));
        var verified = new SignatureVerifier(keyring.TrustedRings())
            .Verify(File.ReadAllText(gpg.FilePath("m.json.sig")), "m.json.sig");

        Assert.Equal(Manifest, verified.Text);
        Assert.Equal(imported.Fingerprint, verified.SignerFingerprint);
    }

    [Fact]
    public void SecretKeysExportedByGpgImportAndSignForGpg()
    {
        using var gpg = new GpgHome();
        gpg.RunOk("--quick-gen-key", "Spack Like <spack@example.invalid>", "rsa2048", "sign", "never");
        var secret = gpg.RunOk("--armor", "--export-secret-keys", "spack@example.invalid");

        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        var key = Assert.Single(keyring.Import(secret, "secret.asc", "secret.asc"));
        Assert.True(key.HasSecret);
        File.WriteAllText(gpg.FilePath("x.sig"), ClearSigner.Sign(Manifest, keyring.SigningKey()));
        Assert.Contains("Good signature", gpg.RunOk("--verify", gpg.FilePath("x.sig")), StringComparison.Ordinal);
    }
}
