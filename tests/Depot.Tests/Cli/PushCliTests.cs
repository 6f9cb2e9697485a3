using Depot.Cli;
using System.Text.Json.Nodes;

namespace Depot.Tests.Cli;

/// <summary><c>depot push</c> as a user runs it: reports, JSON, signing by default, exit codes and one-line
/// errors.</summary>
public sealed class PushCliTests : CliTestBase
{
    [Fact]
    public async Task PushesSignedByDefaultThenListShowsEverythingAndASecondPushSkips()
    {
        Assert.Equal(0, (await RunAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"))).Code);
        var (code, output, err) = await RunAsync("push", Scratch.Path, "--all", "--install-tree",
            TestData.Path("spack-0.21/install-tree"), "--layout", "v2");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        Assert.Contains("pushed   greet@1.0.0 /tnhxyee", output, StringComparison.Ordinal);
        Assert.Contains("external gmake@4.3 /mw444ee", output, StringComparison.Ordinal);
        Assert.Contains("pushed 3, skipped 0 existing and 1 external, failed 0 (layout v2, key "
            + "6640D90F8A1E84DD1142614C06BD5C3F48A372CC published)", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Scratch.Path,
            "build_cache/_pgp/6640D90F8A1E84DD1142614C06BD5C3F48A372CC.pub")));
        Assert.Equal(3, Directory.GetFiles(Path.Combine(Scratch.Path, "build_cache"), "*.spec.json.sig").Length);

        var (listCode, listed, _) = await RunAsync("list", "-L", Scratch.Path);
        Assert.Equal(0, listCode);
        Assert.Contains("tnhxyeebiakcjb3lvymiwx63ueuccyl6 greet@1.0.0", listed, StringComparison.Ordinal);
        Assert.Contains("zi66hh25uj52mbypxnkvycwkkbwphquj greet-data@1.0.0", listed, StringComparison.Ordinal);
        Assert.Contains("ptuyzm5fjwahkoh6ynhlrwgegbywhubq libgreet@1.0.0", listed, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("verify", Scratch.Path)).Code);

        var (againCode, again, _) = await RunAsync("push", Scratch.Path, "--all", "--install-tree",
            TestData.Path("spack-0.21/install-tree"), "--json");
        Assert.Equal(0, againCode);
        var json = JsonNode.Parse(again)!;
        Assert.Equal("v2", (string)json["layout"]!);
        Assert.Equal(3, (int)json["counts"]!["skipped_exists"]!);
        Assert.Equal(0, (int)json["counts"]!["pushed"]!);
        Assert.Equal("skipped_external",
            (string)json["specs"]!.AsArray().Single(s => (string)s!["name"]! == "gmake")!["status"]!);
    }

    [Fact]
    public async Task WithoutAKeyItSaysHowToGetOneOrToPushUnsigned()
    {
        var (code, _, err) = await RunAsync("push", Scratch.Path, "greet", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.Equal(ExitCodes.NotFound, code);
        Assert.StartsWith("depot: error: ", err, StringComparison.Ordinal);
        Assert.Contains("depot keys create", err, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Scratch.Path));

        var (unsignedCode, output, _) = await RunAsync("push", Scratch.Path, "greet", "--only", "package", "--unsigned",
            "--install-tree", TestData.Path("spack-1.2/install-tree"));
        Assert.Equal(0, unsignedCode);
        Assert.Contains("pushed 1,", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ExitCodes.Usage, "name the specs to push, or use --all", "push", "MIRROR", "--install-tree", "TREE")]
    [InlineData(ExitCodes.NotFound, "'nosuch' matches no installed spec", "push", "MIRROR", "nosuch", "--unsigned",
        "--install-tree", "TREE")]
    [InlineData(ExitCodes.NotFound, "not a Spack install tree", "push", "MIRROR", "--all", "--unsigned",
        "--install-tree", "MIRROR")]
    [InlineData(ExitCodes.Usage, "--unsigned and --key contradict", "push", "MIRROR", "--all", "--unsigned", "--key",
        "X", "--install-tree", "TREE")]
    public async Task BadRequestsFailWithOneLineAndWriteNothing(int expectedCode, string message, params string[] args)
    {
        args = args.Select(a => a == "MIRROR" ? Scratch.Path : a == "TREE" ? TestData.Path("spack-1.2/install-tree")
            : a).ToArray();
        var (code, output, err) = await RunAsync(args);
        Assert.Equal(expectedCode, code);
        Assert.Equal("", output);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Scratch.Path));
    }
}
