using System.Text.Json;
using Depot.Cli;
using Depot.Tests.Signing;

namespace Depot.Tests.Cli;

/// <summary>
/// <c>--json</c> on every verb: stdout is exactly one JSON document with the fields scripts read, and no prose.
/// </summary>
public sealed class JsonOutputTests : CliTestBase
{
    private static readonly string InstallTree = TestData.Path("spack-1.2/install-tree");

    /// <summary>Runs <c>depot ARGS --json</c>, asserts the exit code and returns the parsed stdout.</summary>
    private async Task<JsonElement> JsonAsync(int expectedCode, params string[] args)
    {
        var (code, output, err) = await RunAsync([.. args, "--json"]);
        Assert.True(code == expectedCode, $"exit {code}: {err}{output}");
        using var document = JsonDocument.Parse(output); // one document: trailing prose would not parse
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task ListIndexVerifyAndSign()
    {
        var list = await JsonAsync(0, "list", TestData.Path(TestData.V3Unsigned));
        Assert.Contains(list.EnumerateArray(), s => s.GetProperty("name").GetString() == "greet" && s.GetProperty("hash").GetString()!.Length == 32);

        using var copy = TestData.Copy(TestData.V3Unsigned);
        var index = await JsonAsync(0, "index", copy.Path, "--full");
        var layout = Assert.Single(index.GetProperty("layouts").EnumerateArray());
        Assert.Equal((3, 5, true), (layout.GetProperty("layout").GetInt32(), layout.GetProperty("specs").GetInt32(), layout.GetProperty("full_rebuild").GetBoolean()));
        Assert.Empty(layout.GetProperty("problems").EnumerateArray());

        var checksumsOnly = await JsonAsync(0, "verify", copy.Path, "--no-verify", "greet");
        Assert.Equal((1, 1, false), (checksumsOnly.GetProperty("checked").GetInt32(), checksumsOnly.GetProperty("ok").GetInt32(),
            checksumsOnly.GetProperty("signatures_checked").GetBoolean()));

        var untrusted = await JsonAsync(ExitCodes.Failed, "verify", TestData.Path(TestData.V2Signed));
        Assert.Equal(3, untrusted.GetProperty("failures").GetArrayLength());
        foreach (var failure in untrusted.GetProperty("failures").EnumerateArray())
        {
            Assert.Equal("trust", failure.GetProperty("kind").GetString());
            Assert.Contains("which is not trusted", failure.GetProperty("message").GetString(), StringComparison.Ordinal);
            var hint = failure.GetProperty("hint");
            Assert.Equal("trust_mirror_key", hint.GetProperty("action").GetString());
            Assert.Equal(SignatureTests.FixtureFingerprint, hint.GetProperty("arguments").GetProperty("fingerprint").GetString());
            Assert.Equal($"depot keys trust {TestData.Path(TestData.V2Signed)} --fingerprint {SignatureTests.FixtureFingerprint}",
                hint.GetProperty("command").GetString());
        }

        var imported = await JsonAsync(0, "keys", "import", TestData.Path("spack-1.2/keys/secret.asc"));
        Assert.True(imported.GetProperty("imported")[0].GetProperty("secret").GetBoolean());
        var signed = await JsonAsync(0, "sign", copy.Path);
        Assert.Equal((5, 0, SignatureTests.FixtureFingerprint), (signed.GetProperty("signed").GetInt32(), signed.GetProperty("already_signed").GetInt32(),
            signed.GetProperty("key").GetString()));
    }

    [Fact]
    public async Task PushCopyInstallAndEnv()
    {
        var mirror = Path.Combine(Scratch.Path, "mirror");
        var push = await JsonAsync(0, "push", mirror, "greet", "--only", "package", "--unsigned", "--install-tree", InstallTree);
        Assert.Equal(1, push.GetProperty("counts").GetProperty("pushed").GetInt32());
        var again = await JsonAsync(0, "push", mirror, "greet", "--only", "package", "--unsigned", "--install-tree", InstallTree);
        var skipped = Assert.Single(again.GetProperty("specs").EnumerateArray());
        Assert.Equal(("skipped_exists", "overwrite"), (skipped.GetProperty("status").GetString(), skipped.GetProperty("hint").GetProperty("action").GetString()));

        var copy = await JsonAsync(0, "copy", TestData.Path(TestData.V3Unsigned), Path.Combine(Scratch.Path, "copy"), "greet-data", "--no-verify", "--unsigned");
        Assert.Equal(1, copy.GetProperty("counts").GetProperty("copied").GetInt32());
        Assert.Equal("v3", copy.GetProperty("layout").GetString());

        var root = Path.Combine(Scratch.Path, "sw");
        var install = await JsonAsync(0, "install", "greet-data", "--from", TestData.Path(TestData.V3Unsigned), "--root", root, "--no-verify");
        Assert.Equal("installed", Assert.Single(install.GetProperty("specs").EnumerateArray()).GetProperty("status").GetString());
        var env = await JsonAsync(0, "env", "--root", root, "greet-data");
        Assert.NotEmpty(env.GetProperty("variables").EnumerateArray());
        Assert.All(env.GetProperty("variables").EnumerateArray(), v => Assert.All(v.GetProperty("directories").EnumerateArray(),
            d => Assert.StartsWith(root, d.GetString(), StringComparison.Ordinal)));
    }

    [Fact]
    public async Task MirrorSubcommands()
    {
        var added = await JsonAsync(0, "mirror", "add", "team", TestData.Path(TestData.V3Signed));
        Assert.Equal("team", added.GetProperty("added").GetProperty("name").GetString());
        var mirrors = await JsonAsync(0, "mirror", "list");
        var listed = Assert.Single(mirrors.EnumerateArray(), m => m.GetProperty("name").GetString() == "team");
        Assert.Equal((TestData.Path(TestData.V3Signed), true), (listed.GetProperty("url").GetString(), listed.GetProperty("signed").GetBoolean()));

        var check = await JsonAsync(0, "mirror", "check", "team");
        Assert.True(check.GetProperty("ok").GetBoolean());
        Assert.Contains(check.GetProperty("steps").EnumerateArray(), s => s.GetProperty("step").GetString() == "layout" && s.GetProperty("result").GetString() == "v3");
        var failed = await JsonAsync(ExitCodes.Failed, "mirror", "check", Path.Combine(Scratch.Path, "nothing"));
        var layout = Assert.Single(failed.GetProperty("steps").EnumerateArray(), s => !s.GetProperty("ok").GetBoolean());
        Assert.Equal("not_found", layout.GetProperty("kind").GetString());

        Assert.Equal("team", (await JsonAsync(0, "mirror", "set", "team", "--unsigned")).GetProperty("updated").GetProperty("name").GetString());
        Assert.Equal("team", (await JsonAsync(0, "mirror", "remove", "team")).GetProperty("removed").GetProperty("name").GetString());
    }

    [Fact]
    public async Task KeysSubcommands()
    {
        var created = (await JsonAsync(0, "keys", "create", "Json", "json@example.invalid", "--algorithm", "ed25519")).GetProperty("created")[0];
        var fingerprint = created.GetProperty("fingerprint").GetString()!;
        Assert.True(created.GetProperty("secret").GetBoolean());
        var keys = await JsonAsync(0, "keys", "list");
        Assert.Contains(keys.EnumerateArray(), k => k.GetProperty("fingerprint").GetString() == fingerprint);

        Assert.StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----", (await JsonAsync(0, "keys", "export", fingerprint)).GetProperty("armored").GetString(),
            StringComparison.Ordinal);
        var file = Path.Combine(Scratch.Path, "key.asc");
        Assert.Equal(file, (await JsonAsync(0, "keys", "export", fingerprint, "-o", file)).GetProperty("file").GetString());

        var mirror = Path.Combine(Scratch.Path, "mirror");
        var published = await JsonAsync(0, "keys", "publish", mirror, fingerprint);
        Assert.Equal(fingerprint, published.GetProperty("published")[0].GetProperty("fingerprint").GetString());
        Assert.Equal(fingerprint, (await JsonAsync(0, "keys", "remove", fingerprint)).GetProperty("removed")[0].GetProperty("fingerprint").GetString());

        var trusted = await JsonAsync(0, "keys", "trust", mirror, "--fingerprint", fingerprint);
        Assert.Equal(fingerprint, trusted.GetProperty("trusted")[0].GetProperty("fingerprint").GetString());
        Assert.False(trusted.GetProperty("trusted")[0].GetProperty("secret").GetBoolean());
        var fromFile = await JsonAsync(0, "keys", "trust", file);
        Assert.Equal(fingerprint, fromFile.GetProperty("trusted")[0].GetProperty("fingerprint").GetString());
    }

    [Fact]
    public async Task AnErrorIsTheOnlyObjectOnStdout()
    {
        var error = (await JsonAsync(ExitCodes.NotFound, "keys", "export", "DEADBEEF")).GetProperty("error");
        Assert.Equal(("not_found", ExitCodes.NotFound), (error.GetProperty("kind").GetString(), error.GetProperty("exit_code").GetInt32()));
        Assert.Contains("no trusted key DEADBEEF", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(("list_keys", "depot keys list"), (error.GetProperty("hint").GetProperty("action").GetString(),
            error.GetProperty("hint").GetProperty("command").GetString()));

        var noKey = (await JsonAsync(ExitCodes.NotFound, "push", Scratch.Path, "greet", "--install-tree", InstallTree)).GetProperty("error");
        Assert.Equal("create_signing_key", noKey.GetProperty("hint").GetProperty("action").GetString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Scratch.Path));
    }
}
