using Depot.Cli;

namespace Depot.Tests.Cli;

/// <summary>
/// Wrong input a new user types — a file where a directory belongs, a mistyped URL, a broken <c>config.yaml</c> — is
/// one line naming the path, URL or field and what to do, with the exit code of its kind: never the platform's own
/// words ("The file … already exists", "Could not find a part of the path"), never a stack trace, nothing written.
/// </summary>
public sealed class WrongInputCliTests : CliTestBase
{
    // The one error line of a run, which must have written nothing to stdout.
    private static string OneErrorLine((int Code, string Out, string Err) run, int code)
    {
        Assert.True(run.Code == code, $"exit {run.Code}: {run.Err}{run.Out}");
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: error: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Err, StringComparison.Ordinal);
        return line;
    }

    private string AFile()
    {
        var file = Scratch.Combine("a-file");
        File.WriteAllText(file, "not a directory");
        return file;
    }

    [Theory]
    [InlineData("list")]
    [InlineData("index")]
    [InlineData("verify")]
    [InlineData("push")]
    public async Task AMirrorThatIsAFileIsSaidToBeAFile(string verb)
    {
        var file = AFile();
        string[] args = verb == "push"
            ? ["push", file, "--all", "--unsigned", "--install-tree", TestData.Path("spack-1.2/install-tree")]
            : [verb, file];

        var line = OneErrorLine(await RunAsync(args), ExitCodes.Usage);

        Assert.Equal($"depot: error: {file}: is a file, not a directory: a mirror is a directory (or a URL)", line);
        Assert.Equal("not a directory", File.ReadAllText(file));
    }

    [Fact]
    public async Task AMirrorBelowAFileNamesTheFile()
    {
        var file = AFile();
        var line = OneErrorLine(await RunAsync("push", Path.Combine(file, "cache"), "--all", "--unsigned",
            "--install-tree", TestData.Path("spack-1.2/install-tree")), ExitCodes.Usage);
        Assert.Equal($"depot: error: {Path.Combine(file, "cache")}: {file} is a file, not a directory: a mirror is a "
            + "directory (or a URL)", line);
    }

    [Theory]
    [InlineData("--root", "", "{0}: is a file, not a directory: the install root must be a directory (it is created "
        + "if missing)")]
    [InlineData("--root", "below", "{1}: {0} is a file, not a directory, so the install root cannot be created there")]
    [InlineData("--install-tree", "", "{0}: is a file, not a directory: the Spack install tree must be a directory "
        + "(it is created if missing)")]
    public async Task AnInstallRootThatIsAFileIsOneLineBeforeAnythingIsRead(string option, string below,
        string expected)
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var file = AFile();
        var root = below.Length == 0 ? file : Path.Combine(file, below);

        var line = OneErrorLine(await RunAsync("install", "greet", "--from", mirror.Path, option, root,
            "--no-verify"), ExitCodes.Usage);

        Assert.Equal("depot: error: " + string.Format(System.Globalization.CultureInfo.InvariantCulture, expected,
            file, root), line);
        Assert.Equal(["a-file"], Directory.EnumerateFileSystemEntries(Scratch.Path).Select(Path.GetFileName));
        Assert.Equal("not a directory", File.ReadAllText(file));
    }

    [Fact]
    public async Task AnInstallTreeThatDoesNotExistYetIsCreated()
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var tree = Scratch.Combine("new", "deeper", "tree");

        var run = await RunAsync("install", "greet", "--from", mirror.Path, "--install-tree", tree, "--no-verify");

        Assert.True(run.Code == 0, run.Err);
        Assert.DoesNotContain("Could not find a part of the path", run.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(tree, ".spack-db", "index.json")));
    }

    [Theory]
    [InlineData("file://relative/path", "'relative' stands where a file:// URL has its host")]
    [InlineData("file://cache", "'cache' stands where a file:// URL has its host")]
    [InlineData("oci://", "'oci://' names no registry and no repository (oci://HOST[:PORT]/REPOSITORY)")]
    [InlineData("oci+http://", "names no registry and no repository (oci+http://HOST[:PORT]/REPOSITORY)")]
    [InlineData("https://", "'https://' is not a valid mirror URL: it names no host")]
    [InlineData("http:///path", "names no host (http(s)://HOST[:PORT]/PATH)")]
    public async Task AMistypedMirrorUrlIsOneUsageLineSayingWhatItLacks(string url, string expected)
    {
        foreach (var args in new[] { new[] { "list", url }, ["install", "x", "--from", url, "--root", "r"] })
        {
            var line = OneErrorLine(await RunAsync(args), ExitCodes.Usage);
            Assert.Contains(expected, line, StringComparison.Ordinal);
            Assert.DoesNotContain("library/", line, StringComparison.Ordinal);
            Assert.DoesNotContain("\\\\", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AFileUrlWithThreeSlashesOrLocalhostIsTheDirectory()
    {
        foreach (var url in new[] { "file://" + TestData.Path(TestData.V3Unsigned),
            "file://localhost" + TestData.Path(TestData.V3Unsigned) })
        {
            var run = await RunAsync("list", url);
            Assert.True(run.Code == 0, run.Err);
            Assert.Contains("greet@1.0.0", run.Out, StringComparison.Ordinal);
        }
    }

    private void WriteConfig(string yaml) =>
        File.WriteAllText(Path.Combine(Home.Path, "config.yaml"), yaml.ReplaceLineEndings("\n"));

    [Fact]
    public async Task ABrokenMirrorEntryNamesFileLineAndFieldAndOtherCommandsStillWork()
    {
        WriteConfig("""
            mirrors:
              good:
                url: /nowhere
              broken:
                url: /elsewhere
                signed: maybe
            """);
        var config = Path.Combine(Home.Path, "config.yaml");

        // A bare path, and a good entry, do not need the broken one.
        var listed = await RunAsync("list", TestData.Path(TestData.V3Unsigned));
        Assert.True(listed.Code == 0, listed.Err);
        Assert.Contains("greet@1.0.0", listed.Out, StringComparison.Ordinal);

        // Naming it is its error: file, line, column, field, what is wrong.
        var line = OneErrorLine(await RunAsync("list", "broken"), ExitCodes.InvalidContent);
        Assert.Equal($"depot: error: {config}: line 6, column 13: mirrors.broken.signed: 'maybe' does not fit here: "
            + "expected true or false", line);
        Assert.DoesNotContain("Depot.Configuration", line, StringComparison.Ordinal);

        // A command that rewrites the file refuses rather than drop the broken entry.
        var add = OneErrorLine(await RunAsync("mirror", "add", "other", "/x"), ExitCodes.InvalidContent);
        Assert.Contains("mirrors.broken.signed", add, StringComparison.Ordinal);
        Assert.Contains("broken:", File.ReadAllText(config), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mirrors:\n  team:\n    url: /x\n    trusted_fingerprints: ABCD\n", 4, 27,
        "mirrors.team.trusted_fingerprints: 'ABCD' does not fit here: expected a list of key fingerprints")]
    [InlineData("mirrors:\n  team: [a, b]\n", 2, 9,
        "mirrors.team: a list does not fit here: expected a mapping of settings (url: URL, ...)")]
    [InlineData("mirrors:\n  team:\n    signed: true\n", 2, 3, "mirrors.team: has no 'url'")]
    [InlineData("mirrors: [a, b]\n", 1, 10, "mirrors: must map mirror names to their settings")]
    public async Task ConfigErrorsNameTheLineColumnAndField(string yaml, int line, int column, string expected)
    {
        WriteConfig(yaml);
        var error = OneErrorLine(await RunAsync("list", "team"), ExitCodes.InvalidContent);
        Assert.StartsWith($"depot: error: {Path.Combine(Home.Path, "config.yaml")}: line {line}, column {column}: "
            + expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConfigThatIsNotYamlNamesItsLineAndFailsEveryCommandThatReadsIt()
    {
        WriteConfig("mirrors:\n  team:\n    url: [unclosed\n");
        var error = OneErrorLine(await RunAsync("list", TestData.Path(TestData.V3Unsigned)),
            ExitCodes.InvalidContent);
        Assert.Matches(@"^depot: error: .*config\.yaml: line [34], column \d+: invalid YAML: ", error);
        Assert.DoesNotContain("(Line:", error, StringComparison.Ordinal);
    }
}
