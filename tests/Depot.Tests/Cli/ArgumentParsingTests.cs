using System.Text.RegularExpressions;
using Depot.Cli;
using Depot.Cli.Commands;

namespace Depot.Tests.Cli;

/// <summary>
/// The command line itself (issue 17, item 6): each mistake is one <c>depot: error:</c> line naming what is wrong and
/// where to read more, exit 2, nothing on stdout; Spack's version syntax is a query, never a response file; help pages
/// name the program <c>depot</c>.
/// </summary>
public sealed partial class ArgumentParsingTests : CliTestBase
{
    /// <summary>Every command, as typed after <c>depot</c>.</summary>
    public static readonly TheoryData<string> Commands = new(
        "", "list", "index", "verify", "sign", "push", "copy", "install", "env", "completion",
        "keys", "keys create", "keys list", "keys export", "keys import", "keys remove", "keys publish", "keys trust",
        "mirror", "mirror add", "mirror list", "mirror remove", "mirror set", "mirror check");

    private static string V3 => TestData.Path(TestData.V3Unsigned);

    /// <summary>Runs <paramref name="args"/>, asserts exit 2, nothing on stdout, and returns the one stderr
    /// line.</summary>
    private async Task<string> UsageErrorAsync(params string[] args)
    {
        var (code, output, error) = await RunAsync(args);
        Assert.True(code == ExitCodes.Usage, $"depot {string.Join(' ', args)}: exit {code}: {error}{output}");
        Assert.Equal("", output);
        return Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("install", "--bogus", "greet", "--root", "ROOT")]
    [InlineData("install", "greet", "--bogus", "--root", "ROOT")]
    [InlineData("env", "--root", "ROOT", "--bogus", "greet")]
    [InlineData("list", "--bogus", "MIRROR")]
    [InlineData("verify", "MIRROR", "greet", "--bogus")]
    [InlineData("push", "MIRROR", "--bogus", "--all")]
    [InlineData("copy", "MIRROR", "ROOT", "--bogus")]
    [InlineData("sign", "MIRROR", "--bogus")]
    [InlineData("index", "--bogus", "MIRROR")]
    [InlineData("keys list", "--bogus")]
    [InlineData("mirror list", "--bogus")]
    [InlineData("mirror check", "MIRROR", "--bogus")]
    public async Task AnUnknownOptionIsOneUsageLineNamingItInEveryVerb(string verb, params string[] rest)
    {
        var root = Scratch.Combine("root");
        string[] args = [.. verb.Split(' '), .. rest.Select(a => a switch { "ROOT" => root, "MIRROR" => V3, _ => a })];

        var line = await UsageErrorAsync(args);

        Assert.Equal($"depot: error: unknown option '--bogus'; see 'depot {verb} --help'", line);
        Assert.False(Directory.Exists(root), "a verb ran despite the unknown option");
    }

    [Fact]
    public async Task AMistypedOptionIsOneLineWithTheClosestOne()
    {
        Assert.Equal("depot: error: unknown option '--jsn'; did you mean '--json'?",
            await UsageErrorAsync("list", V3, "--jsn"));
        Assert.Equal("depot: error: unknown option '--no-verfy'; did you mean '--no-verify'?",
            await UsageErrorAsync("install", "greet", "--no-verfy", "--root", Scratch.Path));
    }

    [Theory]
    [InlineData("lsit", "", "list")]
    [InlineData("instal", "", "install")]
    [InlineData("verfy", "", "verify")]
    [InlineData("lst", "mirror", "list")]
    [InlineData("trsut", "keys", "trust")]
    public async Task AMistypedVerbIsOneLineWithDidYouMean(string typed, string parent, string meant)
    {
        string[] args = [.. parent.Split(' ', StringSplitOptions.RemoveEmptyEntries), typed, "x"];
        Assert.Equal($"depot: error: unknown command '{typed}'; did you mean '{meant}'?",
            await UsageErrorAsync(args));
    }

    [Fact]
    public async Task AVerbNothingLikeAnyIsOneLinePointingAtTheHelp()
    {
        Assert.Equal("depot: error: unknown command 'frobnicate'; see 'depot --help'",
            await UsageErrorAsync("frobnicate"));
        Assert.StartsWith("depot: error: name a command: list, index, ", await UsageErrorAsync(),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("index", "0")]
    [InlineData("index", "-1")]
    [InlineData("verify", "abc")]
    [InlineData("copy", "1025")]
    [InlineData("push", "-1")]
    [InlineData("install", "0")]
    [InlineData("install", "2.5")]
    public async Task JobsOutsideOneTo1024IsOneLineNamingTheOptionAndTheRange(string verb, string jobs)
    {
        string[] args = verb switch
        {
            "copy" => ["copy", V3, Scratch.Combine("copy"), "-j", jobs],
            "push" => ["push", Scratch.Combine("m"), "--all", "--install-tree", V3, "-j", jobs],
            "install" => ["install", "greet", "--from", V3, "--root", Scratch.Combine("sw"), "--jobs", jobs],
            _ => [verb, V3, "-j", jobs],
        };

        var line = await UsageErrorAsync(args);

        Assert.Equal($"depot: error: -j/--jobs takes a whole number from 1 to 1024, not '{jobs}'; "
            + $"see 'depot {verb} --help'", line);
        Assert.DoesNotContain("System.", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobsInRangeIsAccepted()
    {
        using var copy = TestData.Copy(TestData.V3Unsigned);
        Assert.Equal(0, (await RunAsync("index", copy.Path, "-j", "1")).Code);
        Assert.Equal(0, (await RunAsync("index", copy.Path, "--jobs", "1024")).Code);
    }

    [Theory]
    [InlineData("index", "mirror")]
    [InlineData("keys create", "name")]
    [InlineData("keys trust", "target")]
    [InlineData("mirror add", "name")]
    [InlineData("copy", "source")]
    public async Task AMissingArgumentIsReportedOnceWithThatVerbsHelp(string verb, string argument)
    {
        Assert.Equal($"depot: error: missing argument <{argument}>; see 'depot {verb} --help'",
            await UsageErrorAsync(verb.Split(' ')));
    }

    [Fact]
    public async Task AWrongChoiceNamesTheOptionAndTheChoicesOnOneLine()
    {
        Assert.Equal("depot: error: --layout takes one of v3, v2, v2-0.22, not 'v9'; see 'depot push --help'",
            await UsageErrorAsync("push", Scratch.Path, "--all", "--layout", "v9"));
        Assert.Equal("depot: error: --from needs a value; see 'depot install --help'",
            await UsageErrorAsync("install", "greet", "--root", Scratch.Path, "--from"));
    }

    [Fact]
    public async Task ParseErrorsWithJsonAreOneUsageObject()
    {
        var (code, output, error) = await RunAsync("index", V3, "-j", "abc", "--json");
        Assert.Equal((ExitCodes.Usage, ""), (code, error));
        using var document = System.Text.Json.JsonDocument.Parse(output);
        var e = document.RootElement.GetProperty("error");
        Assert.Equal(("usage", 2), (e.Str("kind"), e.Int("exit_code")));
        Assert.StartsWith("-j/--jobs takes a whole number from 1 to 1024, not 'abc'", e.Str("message"),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnArgumentStartingWithAtIsAVersionQueryNotAResponseFile()
    {
        var (code, output, error) = await RunAsync("list", V3, "@1.0");
        Assert.True(code == 0, error);
        Assert.Contains("greet@1.0.0", output, StringComparison.Ordinal);
        Assert.Contains("libgreet@1.0.0", output, StringComparison.Ordinal);

        var (none, _, noneError) = await RunAsync("list", V3, "@9.9");
        Assert.Equal(ExitCodes.NotFound, none);
        Assert.Contains("no cached spec matches @9.9", noneError, StringComparison.Ordinal);
        Assert.DoesNotContain("esponse file", noneError, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task EveryHelpPageSaysUsageDepot(string command)
    {
        string[] args = [.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"];
        var (code, output, error) = await RunAsync(args);

        Assert.True(code == 0, error);
        var usage = Regex.Match(output, @"Usage:\s+(\S+(?: [a-z]+)*)");
        Assert.True(usage.Success, output);
        Assert.Equal(("depot " + command).Trim(), usage.Groups[1].Value);
        Assert.DoesNotContain("Depot.Cli", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("index")]
    [InlineData("verify")]
    [InlineData("sign")]
    [InlineData("push")]
    [InlineData("copy")]
    [InlineData("install")]
    [InlineData("keys publish")]
    [InlineData("keys trust")]
    [InlineData("mirror check")]
    public async Task EveryMirrorArgumentSaysWhatItAccepts(string verb)
    {
        var (_, output, _) = await RunAsync([.. verb.Split(' '), "--help"]);
        Assert.Contains(CommonArguments.MirrorForms, Spaces().Replace(output, " "), StringComparison.Ordinal);
        Assert.DoesNotContain("a directory path or file:// URL", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("push", "number of cores")]
    [InlineData("install", "number of cores, at least 2")]
    [InlineData("index", "16")]
    [InlineData("verify", "8")]
    [InlineData("copy", "8")]
    public async Task JobsHelpStatesOneDefault(string verb, string defaultText)
    {
        var (_, output, _) = await RunAsync(verb, "--help");
        var line = Assert.Single(output.Split('\n'), l => l.Contains("--jobs", StringComparison.Ordinal));
        Assert.Contains($"(default: {defaultText})", line, StringComparison.Ordinal);
        Assert.Single(Regex.Matches(line, "default"));
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
