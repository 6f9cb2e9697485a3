using Depot.Cli;
using Depot.Tests.Signing;

namespace Depot.Tests.Cli;

/// <summary>Key and signature commands end to end, each with its own Depot home.</summary>
public sealed class KeysCliTests : CliTestBase
{
    [Fact]
    public async Task CreateListExportImportRemove()
    {
        var (code, created, _) = await RunAsync("keys", "create", "CLI Key", "cli@example.invalid", "--algorithm",
            "ed25519", "--expires", "2y");
        Assert.Equal(0, code);
        var fingerprint = created.Split(' ')[1];
        Assert.Equal(40, fingerprint.Length);

        var (_, list, _) = await RunAsync("keys", "list", "--secret");
        Assert.Contains($"sec  {fingerprint}  ed25519", list, StringComparison.Ordinal);
        Assert.Contains("CLI Key (Depot signing key) <cli@example.invalid>", list, StringComparison.Ordinal);

        var exported = Path.Combine(Home.Path, "pub.asc");
        Assert.Equal(0, (await RunAsync("keys", "export", fingerprint, "-o", exported)).Code);
        Assert.StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----", File.ReadAllText(exported), StringComparison.Ordinal);
        var (_, json, _) = await RunAsync("keys", "list", "--json");
        Assert.Contains($"\"fingerprint\": \"{fingerprint}\"", json, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync("keys", "remove", fingerprint)).Code);
        Assert.Equal("", (await RunAsync("keys", "list")).Out);
        var (importCode, imported, _) = await RunAsync("keys", "import", exported);
        Assert.Equal(0, importCode);
        Assert.StartsWith($"imported pub {fingerprint}", imported, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASecretKeyIsExportedOwnerOnlyEvenOverAnExistingFile(bool fileExists)
    {
        var (_, created, _) = await RunAsync("keys", "create", "Secret Key", "secret@example.invalid", "--algorithm",
            "ed25519");
        var fingerprint = created.Split(' ')[1];
        var target = Scratch.Combine("secret.asc");
        if (fileExists)
        {
            File.WriteAllText(target, "world-readable\n");
            File.SetUnixFileMode(target,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        Assert.Equal(0, (await RunAsync("keys", "export", fingerprint, "--secret", "-o", target)).Code);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(target));
        Assert.StartsWith("-----BEGIN PGP PRIVATE KEY BLOCK-----", File.ReadAllText(target), StringComparison.Ordinal);
        Assert.Equal(["secret.asc"],
            Directory.EnumerateFileSystemEntries(Scratch.Path).Select(Path.GetFileName)); // no temporary file left
    }

    [Fact]
    public async Task SignPublishTrustAndVerifyAMirror()
    {
        using var mirror = TestData.Copy(TestData.V2Unsigned);
        Assert.Equal(0,
            (await RunAsync("keys", "create", "Signer", "signer@example.invalid", "--algorithm", "ed25519")).Code);

        var (signCode, signed, _) = await RunAsync("sign", mirror.Path);
        Assert.Equal(0, signCode);
        Assert.Contains("signed 3 entries", signed, StringComparison.Ordinal);
        Assert.Equal(3, Directory.EnumerateFiles(mirror.Combine("build_cache"), "*.spec.json.sig").Count());
        Assert.Empty(Directory.EnumerateFiles(mirror.Combine("build_cache"), "*.spec.json"));
        Assert.True(File.Exists(mirror.Combine("build_cache/_pgp/index.json")));

        var (verifyCode, verified, _) = await RunAsync("verify", mirror.Path);
        Assert.Equal(0, verifyCode);
        Assert.Contains("3 entries checked, 3 ok, 0 failed (3 signatures good", verified, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyFailsWithALinePerBadEntryAndTheFix()
    {
        var (code, output, err) = await RunAsync("verify", TestData.Path(TestData.V2Signed));
        Assert.Equal(1, code);
        Assert.Contains("3 entries checked, 0 ok, 3 failed", output, StringComparison.Ordinal);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines,
            l => Assert.EndsWith($"depot keys trust {TestData.Path(TestData.V2Signed)} --fingerprint "
                + $"{SignatureTests.FixtureFingerprint}", l, StringComparison.Ordinal));

        Assert.Equal(0,
            (await RunAsync("keys", "trust", TestData.Path(TestData.V2Signed), "--fingerprint",
                SignatureTests.FixtureFingerprint)).Code);
        Assert.Equal(0, (await RunAsync("verify", TestData.Path(TestData.V2Signed))).Code);
    }

    [Fact]
    public async Task TrustWithoutAChoiceListsTheMirrorsKeysAndRefuses()
    {
        var (code, _, err) = await RunAsync("keys", "trust", TestData.Path(TestData.V3Signed));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(SignatureTests.FixtureFingerprint, err, StringComparison.Ordinal);
        Assert.Contains("--fingerprint FPR", err, StringComparison.Ordinal);
        Assert.Equal("", (await RunAsync("keys", "list")).Out);

        var (allCode, all, _) = await RunAsync("keys", "trust", TestData.Path(TestData.V3Signed), "--all");
        Assert.Equal(0, allCode);
        Assert.Contains("on first use", all, StringComparison.Ordinal);
        Assert.Contains("trusted " + SignatureTests.FixtureFingerprint, all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrustAKeyFile()
    {
        var (code, output, _) = await RunAsync("keys", "trust", TestData.Path("spack-0.21/keys/public.asc"));
        Assert.Equal(0, code);
        Assert.StartsWith("trusted " + SignatureTests.FixtureFingerprint, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ExitCodes.NotFound, "keys", "export", "DEADBEEF", "no trusted key DEADBEEF")]
    [InlineData(ExitCodes.NotFound, "keys", "import", "/no/such/file.asc", "/no/such/file.asc: no such file")]
    [InlineData(ExitCodes.Usage, "keys", "create", "x", "not-an-email", "invalid email 'not-an-email'")]
    [InlineData(ExitCodes.Usage, "keys", "remove", "xyz", "'xyz' is not a key fingerprint")]
    [InlineData(ExitCodes.NotFound, "sign", "/tmp", "no signing key")]
    public async Task KeyErrorsAreOneLine(int expectedCode, params string[] argsAndExpected)
    {
        var (code, _, err) = await RunAsync(argsAndExpected[..^1]);
        Assert.Equal(expectedCode, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(argsAndExpected[^1], line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportFromAGpgHome()
    {
        using var gpg = new GpgHome();
        gpg.RunOk("--quick-gen-key", "Gpg Home <home@example.invalid>", "ed25519", "sign", "never");
        var (code, output, err) = await RunAsync("keys", "import", "--gpg-home", gpg.Path);
        Assert.True(code == 0, err);
        Assert.Contains("imported sec", output, StringComparison.Ordinal);
        Assert.Contains("Gpg Home <home@example.invalid>", output, StringComparison.Ordinal);
    }
}
