using Depot.Cli;
using Depot.Configuration;
using Depot.Signing;
using Depot.Tests.Cli;

namespace Depot.Tests.Signing;

/// <summary>
/// Issue 21: Depot's home and keys are created owner-only, and a secret key its group or others can read is refused
/// (with the chmod that fixes it) before anything is signed with it.
/// </summary>
public class KeyFileModeTests
{
    private const UnixFileMode OwnerFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite
        | UnixFileMode.UserExecute;

    [Fact]
    public void ANewHomeItsKeysAndSecretsAreOwnerOnly()
    {
        using var parent = new TempDir();
        var home = new DepotHome(Path.Combine(parent.Path, "depot-home"));
        var key = Keyring.Open(home.KeysFolder).Create("Modes", "modes@example.invalid", null, null,
            KeyAlgorithm.Ed25519);
        Assert.Equal(OwnerFolder, File.GetUnixFileMode(home.Path));
        Assert.Equal(OwnerFolder, File.GetUnixFileMode(home.KeysFolder));
        Assert.Equal(OwnerFolder, File.GetUnixFileMode(Path.Combine(home.KeysFolder, "secret")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
            File.GetUnixFileMode(Path.Combine(home.KeysFolder, "secret", key.Fingerprint + ".asc")));

        var config = new DepotHome(Path.Combine(parent.Path, "config-home"));
        new DepotConfig().Save(config.ConfigFile);
        Assert.Equal(OwnerFolder, File.GetUnixFileMode(config.Path));
    }

    [Fact]
    public void AnExistingHomeKeepsTheModeItsOwnerGaveIt()
    {
        using var home = new TempDir();
        File.SetUnixFileMode(home.Path, OwnerFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        Keyring.Open(new DepotHome(home.Path).KeysFolder).Create("Shared", "s@example.invalid", null, null,
            KeyAlgorithm.Ed25519);
        Assert.Equal(OwnerFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
            File.GetUnixFileMode(home.Path));
    }

    [Theory]
    [InlineData(UnixFileMode.GroupRead, "its group", "0640")]
    [InlineData(UnixFileMode.OtherRead, "everyone", "0604")]
    public void AReadableSecretKeyIsRefusedWithTheFix(UnixFileMode extra, string who, string mode)
    {
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        var key = keyring.Create("Readable", "r@example.invalid", null, null, KeyAlgorithm.Ed25519);
        var file = Path.Combine(home.Path, "keys", "secret", key.Fingerprint + ".asc");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);

        var e = Assert.Throws<DepotException>(() => keyring.SigningKey());
        Assert.Equal($"{file}: secret key {key.Fingerprint} is readable by {who} (mode {mode}); refusing to use "
            + $"it: run `chmod 600 {file}`, and consider the key exposed if others could read it", e.Message);
        Assert.Throws<DepotException>(() => keyring.ExportSecret(key.Fingerprint));
        Assert.Single(keyring.List(secretOnly: true)); // listing still works: only using the secret is refused

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.NotNull(keyring.SigningKey());
    }

    [Fact]
    public async Task ASignedPushWithAReadableKeyIsOneLineAndWritesNothing()
    {
        using var home = new TempDir();
        using var scratch = new TempDir();
        Assert.Equal(0, (await CliRun.RunAsync(home.Path, "keys", "import",
            TestData.Path("spack-1.2/keys/secret.asc"))).Code);
        var secret = Directory.GetFiles(Path.Combine(home.Path, "keys", "secret")).Single();
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var mirror = Path.Combine(scratch.Path, "mirror");

        var (code, output, error) = await CliRun.RunAsync(home.Path, "push", mirror, "--all", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.NotEqual(0, code);
        Assert.Equal(ExitCodes.Trust, code);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains($"run `chmod 600 {secret}`", error, StringComparison.Ordinal);
        Assert.True(!Directory.Exists(mirror) || Directory.GetFiles(mirror, "*.json", SearchOption.AllDirectories)
            .Length == 0, output);
    }
}
