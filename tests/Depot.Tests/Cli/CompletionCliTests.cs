using System.Diagnostics;
using System.Text.Json;
using Depot.Cli;

namespace Depot.Tests.Cli;

/// <summary>
/// <c>depot completion bash|zsh|fish</c> (issue 17, item 9): each script is valid for its shell (<c>bash -n</c>,
/// <c>zsh -n</c>, <c>fish --no-execute</c>), and, loaded into that shell, completes verbs, subcommands, options, an
/// option's choices and configured mirror names (asked of the real depot binary).
/// </summary>
public sealed class CompletionCliTests : CliTestBase
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The script <c>depot completion SHELL</c> prints, saved to a file.</summary>
    private async Task<string> ScriptAsync(string shell)
    {
        var (code, output, error) = await RunAsync("completion", shell);
        Assert.True(code == 0, error);
        Assert.Equal("", error);
        var path = Scratch.Combine("depot." + shell);
        await File.WriteAllTextAsync(path, output, Token);
        return path;
    }

    /// <summary>Runs <paramref name="program"/> with this test's Depot home; returns its exit code and
    /// output.</summary>
    private async Task<(int Code, string Out, string Err)> ShellAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DEPOT_HOME"] = Home.Path },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Token);
        var error = process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        return (process.ExitCode, await output, await error);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A shell function <c>depot</c> that runs this build's CLI (the scripts ask it for mirror
    /// names).</summary>
    private static string DepotFunction(string shell)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "Depot.Cli");
        return shell == "fish" ? $"function depot; '{cli}' $argv; end; " : $"depot() {{ '{cli}' \"$@\"; }}; ";
    }

    [Fact]
    public async Task TheBashScriptIsValidBashAndCompletesVerbsOptionsChoicesAndMirrors()
    {
        var script = await ScriptAsync("bash");
        var syntax = await ShellAsync("bash", "-n", script);
        Assert.True(syntax.Code == 0, syntax.Err);

        async Task<string[]> CompleteAsync(params string[] words)
        {
            var quoted = string.Join(' ', words.Select(w => $"'{w}'"));
            var (code, output, error) = await ShellAsync("bash", "-c",
                DepotFunction("bash") + $"source '{script}'; COMP_WORDS=(depot {quoted}); "
                + $"COMP_CWORD={words.Length}; _depot; printf '%s\\n' \"${{COMPREPLY[@]}}\"");
            Assert.True(code == 0, error);
            return Lines(output);
        }

        Assert.Equal(["list"], await CompleteAsync("li"));
        Assert.Equal(["index", "install"], (await CompleteAsync("in")).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(["add"], await CompleteAsync("mirror", "a"));
        Assert.Equal(["--json"], await CompleteAsync("list", "--js"));
        Assert.Equal(["v2", "v2-0.22", "v3"],
            (await CompleteAsync("push", "m", "--layout", "v")).Order(StringComparer.Ordinal).ToArray());

        File.WriteAllText(Path.Combine(Home.Path, "config.yaml"),
            $"mirrors:\n  team-cache:\n    url: {TestData.Path(TestData.V3Unsigned)}\n");
        Assert.Contains("team-cache", await CompleteAsync("list", "team"));
        Assert.Contains("team-cache", await CompleteAsync("install", "greet", "--from", "te"));
    }

    [Fact]
    public async Task TheZshScriptIsValidZshAndCompletesAVerb()
    {
        var script = await ScriptAsync("zsh");
        var syntax = await ShellAsync("zsh", "-n", script);
        Assert.True(syntax.Code == 0, syntax.Err);

        async Task<string[]> CandidatesAsync(params string[] words)
        {
            var quoted = string.Join(' ', words.Select(w => $"'{w}'"));
            var (code, output, error) = await ShellAsync("zsh", "-c",
                DepotFunction("zsh") + $"source '{script}'; _depot_candidates {quoted}");
            Assert.True(code == 0, error);
            return Lines(output);
        }

        Assert.Equal(["list"], await CandidatesAsync("li"));
        Assert.Equal(["check"], await CandidatesAsync("mirror", "ch"));
        Assert.Equal(["--install-tree"], await CandidatesAsync("push", "m", "--inst"));
        File.WriteAllText(Path.Combine(Home.Path, "config.yaml"),
            $"mirrors:\n  team-cache:\n    url: {TestData.Path(TestData.V3Unsigned)}\n");
        Assert.Contains("team-cache", await CandidatesAsync("verify", "t"));
    }

    [Fact]
    public async Task TheFishScriptIsValidFishAndCompletesAVerb()
    {
        var script = await ScriptAsync("fish");
        var syntax = await ShellAsync("fish", "--no-execute", script);
        Assert.True(syntax.Code == 0, syntax.Err);

        async Task<string[]> CompleteAsync(string line)
        {
            var (code, output, error) = await ShellAsync("fish", "-c",
                DepotFunction("fish") + $"source '{script}'; complete -C '{line}'");
            Assert.True(code == 0, error);
            return Lines(output).Select(l => l.Split('\t')[0]).ToArray();
        }

        Assert.Equal(["list"], await CompleteAsync("depot li"));
        Assert.Equal(["add"], await CompleteAsync("depot mirror ad"));
        Assert.Equal(["--json"], await CompleteAsync("depot index m --js"));
        File.WriteAllText(Path.Combine(Home.Path, "config.yaml"),
            $"mirrors:\n  team-cache:\n    url: {TestData.Path(TestData.V3Unsigned)}\n");
        Assert.Contains("team-cache", await CompleteAsync("depot sign team"));
    }

    [Fact]
    public async Task MirrorNamesAreDepotsAndSpacksOneALine()
    {
        File.WriteAllText(Path.Combine(Home.Path, "config.yaml"),
            "mirrors:\n  team:\n    url: /srv/cache\n  other:\n    url: /srv/b\n");
        var spack = Scratch.Combine("spack");
        Directory.CreateDirectory(spack);
        File.WriteAllText(Path.Combine(spack, "mirrors.yaml"), "mirrors:\n  site: https://cache.example.org\n");
        Variables["SPACK_USER_CONFIG_PATH"] = spack;

        var (code, output, error) = await RunAsync("completion", "--mirror-names");

        Assert.True(code == 0, error);
        Assert.Equal(["team", "other", "site"], Lines(output));
    }

    [Fact]
    public async Task AnUnknownShellIsAUsageErrorAndJsonCarriesTheScript()
    {
        var (code, output, error) = await RunAsync("completion", "tcsh");
        Assert.Equal((ExitCodes.Usage, ""), (code, output));
        Assert.Equal("depot: error: <shell> takes one of bash, zsh, fish, not 'tcsh'; see 'depot completion --help'",
            Assert.Single(Lines(error)));

        var json = await RunAsync("completion", "bash", "--json");
        Assert.Equal(0, json.Code);
        using var document = JsonDocument.Parse(json.Out);
        Assert.Equal("bash", document.RootElement.Str("shell"));
        Assert.Contains("complete -F _depot depot", document.RootElement.Str("script"), StringComparison.Ordinal);
    }
}
