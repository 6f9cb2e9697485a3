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

    private static readonly string Fixture = SignatureTests.FixtureFingerprint;

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
        Assert.Contains(list.EnumerateArray(), s => s.Str("name") == "greet" && s.Str("hash")!.Length == 32);

        using var copy = TestData.Copy(TestData.V3Unsigned);
        var index = await JsonAsync(0, "index", copy.Path, "--full");
        var layout = Assert.Single(index.GetProperty("layouts").EnumerateArray());
        Assert.Equal((3, 5, true), (layout.Int("layout"), layout.Int("specs"), layout.Bool("full_rebuild")));
        Assert.Empty(layout.GetProperty("problems").EnumerateArray());

        var checksumsOnly = await JsonAsync(0, "verify", copy.Path, "--no-verify", "greet");
        Assert.Equal((1, 1, false),
            (checksumsOnly.Int("checked"), checksumsOnly.Int("ok"), checksumsOnly.Bool("signatures_checked")));

        var untrusted = await JsonAsync(ExitCodes.Failed, "verify", TestData.Path(TestData.V2Signed));
        Assert.Equal(3, untrusted.GetProperty("failures").GetArrayLength());
        foreach (var failure in untrusted.GetProperty("failures").EnumerateArray())
        {
            Assert.Equal("trust", failure.Str("kind"));
            Assert.Contains("which is not trusted", failure.Str("message"), StringComparison.Ordinal);
            var hint = failure.GetProperty("hint");
            Assert.Equal("trust_mirror_key", hint.Str("action"));
            Assert.Equal(Fixture, hint.GetProperty("arguments").Str("fingerprint"));
            var command = $"depot keys trust {TestData.Path(TestData.V2Signed)} --fingerprint {Fixture}";
            Assert.Equal(command, hint.Str("command"));
        }

        var imported = await JsonAsync(0, "keys", "import", TestData.Path("spack-1.2/keys/secret.asc"));
        Assert.True(imported.GetProperty("imported")[0].Bool("secret"));
        var signed = await JsonAsync(0, "sign", copy.Path);
        Assert.Equal((5, 0, Fixture), (signed.Int("signed"), signed.Int("already_signed"), signed.Str("key")));
    }

    [Fact]
    public async Task PushCopyInstallAndEnv()
    {
        var mirror = Path.Combine(Scratch.Path, "mirror");
        string[] push = ["push", mirror, "greet", "--only", "package", "--unsigned", "--install-tree", InstallTree];
        Assert.Equal(1, (await JsonAsync(0, push)).GetProperty("counts").Int("pushed"));
        var skipped = Assert.Single((await JsonAsync(0, push)).GetProperty("specs").EnumerateArray());
        Assert.Equal(("skipped_exists", "overwrite"),
            (skipped.Str("status"), skipped.GetProperty("hint").Str("action")));

        var copy = await JsonAsync(0, "copy", TestData.Path(TestData.V3Unsigned), Path.Combine(Scratch.Path, "copy"),
            "greet-data", "--no-verify", "--unsigned");
        Assert.Equal((1, "v3"), (copy.GetProperty("counts").Int("copied"), copy.Str("layout")));

        var root = Path.Combine(Scratch.Path, "sw");
        var install = await JsonAsync(0, "install", "greet-data", "--from", TestData.Path(TestData.V3Unsigned),
            "--root", root, "--no-verify");
        Assert.Equal("installed", Assert.Single(install.GetProperty("specs").EnumerateArray()).Str("status"));
        var env = await JsonAsync(0, "env", "--root", root, "greet-data");
        Assert.NotEmpty(env.GetProperty("variables").EnumerateArray());
        var directories = env.GetProperty("variables").EnumerateArray()
            .SelectMany(v => v.GetProperty("directories").EnumerateArray());
        Assert.All(directories, d => Assert.StartsWith(root, d.GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task MirrorSubcommands()
    {
        var added = await JsonAsync(0, "mirror", "add", "team", TestData.Path(TestData.V3Signed));
        Assert.Equal("team", added.GetProperty("added").Str("name"));
        var mirrors = await JsonAsync(0, "mirror", "list");
        var listed = Assert.Single(mirrors.EnumerateArray(), m => m.Str("name") == "team");
        Assert.Equal((TestData.Path(TestData.V3Signed), true), (listed.Str("url"), listed.Bool("signed")));

        var check = await JsonAsync(0, "mirror", "check", "team");
        Assert.True(check.Bool("ok"));
        Assert.Contains(check.GetProperty("steps").EnumerateArray(),
            s => s.Str("step") == "layout" && s.Str("result") == "v3");
        var failed = await JsonAsync(ExitCodes.Failed, "mirror", "check", Path.Combine(Scratch.Path, "nothing"));
        var layout = Assert.Single(failed.GetProperty("steps").EnumerateArray(), s => !s.Bool("ok"));
        Assert.Equal("not_found", layout.Str("kind"));

        var set = await JsonAsync(0, "mirror", "set", "team", "--unsigned");
        Assert.Equal("team", set.GetProperty("updated").Str("name"));
        Assert.Equal("team", (await JsonAsync(0, "mirror", "remove", "team")).GetProperty("removed").Str("name"));
    }

    [Fact]
    public async Task KeysSubcommands()
    {
        var created = await JsonAsync(0, "keys", "create", "Json", "json@example.invalid", "--algorithm", "ed25519");
        var fingerprint = created.GetProperty("created")[0].Str("fingerprint")!;
        Assert.True(created.GetProperty("created")[0].Bool("secret"));
        var keys = await JsonAsync(0, "keys", "list");
        Assert.Contains(keys.EnumerateArray(), k => k.Str("fingerprint") == fingerprint);

        var armored = (await JsonAsync(0, "keys", "export", fingerprint)).Str("armored");
        Assert.StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----", armored, StringComparison.Ordinal);
        var file = Path.Combine(Scratch.Path, "key.asc");
        Assert.Equal(file, (await JsonAsync(0, "keys", "export", fingerprint, "-o", file)).Str("file"));

        var mirror = Path.Combine(Scratch.Path, "mirror");
        var published = await JsonAsync(0, "keys", "publish", mirror, fingerprint);
        Assert.Equal(fingerprint, published.GetProperty("published")[0].Str("fingerprint"));
        var removed = await JsonAsync(0, "keys", "remove", fingerprint);
        Assert.Equal(fingerprint, removed.GetProperty("removed")[0].Str("fingerprint"));

        var trust = await JsonAsync(0, "keys", "trust", mirror, "--fingerprint", fingerprint);
        var trusted = trust.GetProperty("trusted")[0];
        Assert.Equal((fingerprint, false), (trusted.Str("fingerprint"), trusted.Bool("secret")));
        var fromFile = await JsonAsync(0, "keys", "trust", file);
        Assert.Equal(fingerprint, fromFile.GetProperty("trusted")[0].Str("fingerprint"));
    }

    [Fact]
    public async Task AnErrorIsTheOnlyObjectOnStdout()
    {
        var error = (await JsonAsync(ExitCodes.NotFound, "keys", "export", "DEADBEEF")).GetProperty("error");
        Assert.Equal(("not_found", ExitCodes.NotFound), (error.Str("kind"), error.Int("exit_code")));
        Assert.Contains("no trusted key DEADBEEF", error.Str("message"), StringComparison.Ordinal);
        var hint = error.GetProperty("hint");
        Assert.Equal(("list_keys", "depot keys list"), (hint.Str("action"), hint.Str("command")));

        var noKey = await JsonAsync(ExitCodes.NotFound, "push", Scratch.Path, "greet", "--install-tree", InstallTree);
        Assert.Equal("create_signing_key", noKey.GetProperty("error").GetProperty("hint").Str("action"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Scratch.Path));
    }
}

/// <summary>Short reads of JSON properties for the assertions above.</summary>
internal static class JsonElementReads
{
    public static string? Str(this JsonElement e, string name) => e.GetProperty(name).GetString();

    public static int Int(this JsonElement e, string name) => e.GetProperty(name).GetInt32();

    public static bool Bool(this JsonElement e, string name) => e.GetProperty(name).GetBoolean();
}
