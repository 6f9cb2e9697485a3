using System.Text.Json;
using Depot.Cli;

namespace Depot.Tests.Cli;

/// <summary>
/// Progress and output (issue 17, item 8): <c>--json</c> on every command; JSON text kept as it is (<c>&lt;</c>, not
/// <c>\u003C</c>); progress of sign, verify, index and copy shown only to a person at a terminal, never mixed into
/// stdout, and never with <c>--json</c>.
/// </summary>
public sealed class ProgressAndJsonCliTests : CliTestBase
{
    /// <summary>Every command that does something (not the groups <c>keys</c> and <c>mirror</c>).</summary>
    public static readonly TheoryData<string> Verbs = new(
        "list", "index", "verify", "sign", "push", "copy", "install", "env", "completion",
        "keys create", "keys list", "keys export", "keys import", "keys remove", "keys publish", "keys trust",
        "mirror add", "mirror list", "mirror remove", "mirror set", "mirror check");

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task EveryVerbTakesJson(string verb)
    {
        var (code, output, error) = await RunAsync([.. verb.Split(' '), "--help"]);
        Assert.True(code == 0, error);
        Assert.Contains(output.Split('\n'), l => l.TrimStart().StartsWith("--json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeysListJsonKeepsAngleBracketsAsTheyAre()
    {
        Assert.Equal(0, (await RunAsync("keys", "create", "Angle", "angle@example.invalid", "--algorithm",
            "ed25519")).Code);

        var (code, output, error) = await RunAsync("keys", "list", "--json");

        Assert.True(code == 0, error);
        Assert.Contains("<angle@example.invalid>", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u003C", output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\\u003E", output, StringComparison.OrdinalIgnoreCase);
        using var document = JsonDocument.Parse(output);
        Assert.Contains(document.RootElement.EnumerateArray(),
            k => k.ToString().Contains("Angle (Depot signing key) <angle@example.invalid>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task JsonErrorsKeepTheirTextAsItIsToo()
    {
        var missing = Scratch.Combine("<no-such>");
        var (_, output, _) = await RunAsync("list", missing, "--json");
        Assert.Contains(missing, output, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u003C", output, StringComparison.OrdinalIgnoreCase);
        using var document = JsonDocument.Parse(output);
        Assert.Contains(missing, document.RootElement.GetProperty("error").Str("message"), StringComparison.Ordinal);
    }

    /// <summary>Runs <c>depot ARGS</c> as if on a terminal (<c>interactive</c>): progress is drawn on stderr.</summary>
    private async Task<(int Code, string Out, string Err)> InteractiveAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Program.Run(args, stdout, stderr, Home.Path, interactive: true,
            environment: EnvironmentVariables.From(Variables));
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("verify")]
    [InlineData("index")]
    [InlineData("sign")]
    [InlineData("copy")]
    public async Task ProgressNeverReachesStdoutAndNeverComesWithJson(string verb)
    {
        Assert.Equal(0, (await RunAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"))).Code);
        using var first = TestData.Copy(TestData.V3Unsigned);
        using var second = TestData.Copy(TestData.V3Unsigned);
        string[] Args(string mirror, string copyTo) => verb switch
        {
            // (The fixture leaves out gcc-runtime's tarball: greet-data is whole.)
            "verify" => ["verify", mirror, "greet-data", "--no-verify"],
            "copy" => ["copy", mirror, copyTo, "greet-data", "--no-verify", "--unsigned"],
            _ => [verb, mirror],
        };

        var quiet = await RunAsync(Args(first.Path, Scratch.Combine("c1")));
        var watched = await InteractiveAsync(Args(second.Path, Scratch.Combine("c2")));

        Assert.True(quiet.Code == 0, quiet.Err);
        Assert.Equal("", quiet.Err);
        Assert.True(watched.Code == 0, watched.Err);
        Assert.Equal(Normalise(quiet.Out, first.Path, "c1"), Normalise(watched.Out, second.Path, "c2"));

        using var third = TestData.Copy(TestData.V3Unsigned);
        var json = await InteractiveAsync([.. Args(third.Path, Scratch.Combine("c3")), "--json"]);
        Assert.True(json.Code == 0, json.Err);
        Assert.Equal("", json.Err);
        using var document = JsonDocument.Parse(json.Out);
        Assert.NotEqual(JsonValueKind.Undefined, document.RootElement.ValueKind);
    }

    /// <summary>The report's lines, sorted (entries finish in any order), without what differs between two runs:
    /// the paths, timings.</summary>
    private string Normalise(string report, string mirror, string copy) =>
        string.Join('\n', report.Split('\n').Select(line => System.Text.RegularExpressions.Regex.Replace(
                line.Replace(mirror, "MIRROR", StringComparison.Ordinal)
                    .Replace(Scratch.Combine(copy), "COPY", StringComparison.Ordinal),
                @"[0-9]+\.[0-9]+ s", "T s"))
            .Order(StringComparer.Ordinal));
}
