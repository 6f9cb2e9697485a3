namespace Depot.Tests.Signing;

/// <summary>
/// One gpg-made key, made once for <see cref="SubkeyTests"/>: an RSA primary that may only certify, an RSA signing
/// subkey, an RSA encryption subkey, and an Ed25519 signing subkey that gpg revokes after it has signed. Holds the
/// key as exported before and after the revocation, and documents signed by each signing subkey.
/// </summary>
public sealed class GpgSubkeyFixture : IDisposable
{
    public const string Manifest = "{\n\"version\":3,\n\"data\":[\n{\n\"contentLength\":1,"
        + "\n\"mediaType\":\"application/vnd.spack.spec.v5+json\"\n}\n]\n}";
    public const string UserId = "Subkey Owner <subkeys@example.invalid>";

    private readonly GpgHome gpg = new();

    public GpgSubkeyFixture()
    {
        gpg.RunOk("--quick-gen-key", UserId, "rsa2048", "cert", "never");
        Primary = gpg.Fingerprints(UserId)[0];
        gpg.RunOk("--quick-add-key", Primary, "rsa2048", "sign", "never");
        gpg.RunOk("--quick-add-key", Primary, "rsa2048", "encr", "never");
        gpg.RunOk("--quick-add-key", Primary, "ed25519", "sign", "never");
        var fingerprints = gpg.Fingerprints(Primary);
        (SigningSubkey, EncryptionSubkey, RevokedSubkey) = (fingerprints[1], fingerprints[2], fingerprints[3]);

        File.WriteAllText(gpg.FilePath("m.json"), Manifest);
        SignedBySubkey = ClearSign(SigningSubkey);
        SignedByRevokedSubkey = ClearSign(RevokedSubkey);
        PublicKey = gpg.RunOk("--armor", "--export", Primary);
        SecretKey = gpg.RunOk("--armor", "--export-secret-keys", Primary);

        // gpg's own revocation of the third subkey (reason 0, no description).
        gpg.RunWithInput("key 3\nrevkey\ny\n0\n\ny\nsave\n", "--command-fd", "0", "--status-fd", "2", "--edit-key",
            Primary);
        RevokedPublicKey = gpg.RunOk("--armor", "--export", Primary);
        Assert.Contains("sub:r:", gpg.RunOk("--with-colons", "--list-keys", Primary), StringComparison.Ordinal);
    }

    public string Primary { get; }

    public string SigningSubkey { get; }

    public string EncryptionSubkey { get; }

    public string RevokedSubkey { get; }

    /// <summary>The manifest clearsigned by gpg with the RSA signing subkey (<c>-u SUBKEY!</c>).</summary>
    public string SignedBySubkey { get; }

    /// <summary>The manifest clearsigned by gpg with the Ed25519 subkey, before gpg revoked it.</summary>
    public string SignedByRevokedSubkey { get; }

    /// <summary>The public key before the revocation.</summary>
    public string PublicKey { get; }

    /// <summary>The public key with gpg's revocation of the Ed25519 subkey.</summary>
    public string RevokedPublicKey { get; }

    public string SecretKey { get; }

    public GpgHome Gpg => gpg;

    private string ClearSign(string subkey)
    {
        var output = gpg.FilePath(subkey + ".sig");
        gpg.RunOk("--local-user", subkey + "!", "--clearsign", "-o", output, gpg.FilePath("m.json"));
        return File.ReadAllText(output);
    }

    public void Dispose() => gpg.Dispose();
}
