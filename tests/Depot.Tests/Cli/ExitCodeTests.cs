using System.Text.Json;
using Depot.Cli;
using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// One real failure per error kind: the exit code is the kind's (the table in <see cref="ExitCodes.For"/> and the
/// README), the text is one line with the advice, and with <c>--json</c> stdout holds only the error object.
/// </summary>
public sealed class ExitCodeTests(BasicAuthRegistry basic, TlsRegistry tls)
    : CliTestBase, IClassFixture<BasicAuthRegistry>, IClassFixture<TlsRegistry>
{
    /// <summary>
    /// Runs <paramref name="args"/> twice: as text (one <c>depot: error:</c> line on stderr, nothing on stdout) and
    /// with <c>--json</c> (one error object on stdout, nothing on stderr); both exit with the code of
    /// <paramref name="kind"/>.
    /// Returns the error line and the JSON error object.
    /// </summary>
    private async Task<(string Line, JsonElement Error)> FailsAsync(ErrorKind kind, int code, string message,
        params string[] args)
    {
        Assert.Equal(code, ExitCodes.For(kind));
        var text = await RunAsync(args);
        Assert.Equal(code, text.Code);
        Assert.Equal("", text.Out);
        var line = Assert.Single(text.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: error: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);

        var json = await RunAsync([.. args, "--json"]);
        Assert.Equal(code, json.Code);
        Assert.Equal("", json.Err);
        using var document = JsonDocument.Parse(json.Out);
        var error = document.RootElement.GetProperty("error").Clone();
        Assert.Single(document.RootElement.EnumerateObject());
        Assert.Equal(kind.Name(), error.GetProperty("kind").GetString());
        Assert.Equal(code, error.GetProperty("exit_code").GetInt32());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        return (line, error);
    }

    [Fact]
    public async Task UsageIs2LikeTheParsersOwnErrors()
    {
        var (_, error) = await FailsAsync(ErrorKind.Usage, 2, "--unsigned and --key contradict each other",
            "push", Scratch.Path, "--all", "--unsigned", "--key", "X",
            "--install-tree", TestData.Path("spack-1.2/install-tree"));
        Assert.False(error.TryGetProperty("hint", out _));

        var parser = await RunAsync("list");
        Assert.Equal((ExitCodes.Usage, ""), (parser.Code, parser.Out));
        var parserJson = await RunAsync("list", "--json");
        Assert.Equal(ExitCodes.Usage, parserJson.Code);
        using var document = JsonDocument.Parse(parserJson.Out);
        Assert.Equal("usage", document.RootElement.GetProperty("error").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task NotFoundIs4()
    {
        using var empty = new TempDir();
        await FailsAsync(ErrorKind.NotFound, 4, "no build cache here", "list", empty.Path);
    }

    [Fact]
    public async Task AuthenticationIs5AndSaysHowToLogIn()
    {
        var (line, error) = await FailsAsync(ErrorKind.Authentication, 5, "requires a login",
            "list", basic.Url("exit/auth"));
        Assert.Contains("give the mirror --oci-username and --oci-password-variable", line, StringComparison.Ordinal);
        var hint = error.GetProperty("hint");
        Assert.Equal("configure_registry_login", hint.GetProperty("action").GetString());
        Assert.Equal($"127.0.0.1:{basic.Port}", hint.GetProperty("arguments").GetProperty("registry").GetString());
    }

    [Fact]
    public async Task TrustIs6ForAnUntrustedCertificate()
    {
        var (line, error) = await FailsAsync(ErrorKind.Trust, 6, "its TLS certificate is not trusted",
            "list", tls.Url("exit/trust"));
        Assert.EndsWith("; give the mirror --ca-cert FILE, or set SSL_CERT_FILE", line, StringComparison.Ordinal);
        Assert.Equal("trust_certificate", error.GetProperty("hint").GetProperty("action").GetString());
    }

    [Fact]
    public async Task ConflictIs7()
    {
        Assert.Equal(0, (await RunAsync("mirror", "add", "team", Scratch.Path)).Code);
        await FailsAsync(ErrorKind.Conflict, 7, "mirror 'team' exists already", "mirror", "add", "team", Scratch.Path);
    }

    [Fact]
    public async Task InvalidContentIs8()
    {
        File.WriteAllText(Path.Combine(Home.Path, "config.yaml"), "mirrors: [unclosed\n");
        await FailsAsync(ErrorKind.InvalidContent, 8, "invalid YAML", "mirror", "list");
    }

    [Fact]
    public async Task UnsupportedIs9()
    {
        Directory.CreateDirectory(Path.Combine(Scratch.Path, "v4"));
        File.WriteAllText(Path.Combine(Scratch.Path, "v4", "layout.json"), "{}");
        await FailsAsync(ErrorKind.Unsupported, 9, "build cache layout v4 is not supported", "list", Scratch.Path);
    }

    [Fact]
    public async Task IOIs10()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        await FailsAsync(ErrorKind.IO, 10, "cannot reach", "list", $"http://127.0.0.1:{port}/mirror");
    }

    [Fact]
    public async Task ARunWithFailedEntriesIs1AndOneWithSkippedEntriesIs3()
    {
        Assert.Equal(ExitCodes.Failed, (await RunAsync("verify", TestData.Path(TestData.V2Signed))).Code);
        using var copy = TestData.Copy(TestData.V3Unsigned);
        const string IndexBlob = "blobs/sha256/32/32be1bd8585e4ea587976f5efe946ee53720c8eb328c812071e6038d77252b48";
        File.AppendAllText(copy.Combine(IndexBlob), " ");
        Assert.Equal(ExitCodes.CompletedWithProblems, (await RunAsync("list", copy.Path)).Code);
    }

    [Fact]
    public async Task CancelledIs130OnlyForAUserCancelATimeoutIsAnIOErrorAndABugIsNotAnError()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = new CliConsole(output, error, Home.Path);
        var parse = new System.CommandLine.RootCommand().Parse([]);
        using var stop = new CancellationTokenSource();
        await stop.CancelAsync();
        var cancelled = console.Guard((_, token) => throw new OperationCanceledException(token));
        Assert.Equal(ExitCodes.Cancelled, await cancelled(parse, stop.Token));
        Assert.Equal("depot: cancelled", error.ToString().Trim());

        // The same exception when nobody cancelled the command's token: a request timed out.
        error.GetStringBuilder().Clear();
        var timedOut = console.Guard((_, _) => throw new TaskCanceledException(
            "The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing."));
        Assert.Equal(ExitCodes.IO, await timedOut(parse, CancellationToken.None));
        Assert.Equal("depot: error: a request was abandoned before it finished (a timeout): The request was canceled "
            + "due to the configured HttpClient.Timeout of 100 seconds elapsing.", error.ToString().Trim());
        Assert.Equal("", output.ToString());

        var bug = console.Guard((_, _) => throw new ArgumentException("a bug"));
        // A bug crashes with its stack trace instead of passing for a user error.
        await Assert.ThrowsAsync<ArgumentException>(() => bug(parse, CancellationToken.None));
    }

    [Fact]
    public async Task CancelledWithJsonPrintsTheCancelledErrorObject()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = new CliConsole(output, error, Home.Path);
        var json = new System.CommandLine.Option<bool>("--json");
        var parse = new System.CommandLine.RootCommand { json }.Parse(["--json"]);
        using var stop = new CancellationTokenSource();
        await stop.CancelAsync();

        var code = await console.Guard((_, token) => throw new OperationCanceledException(token))(parse, stop.Token);

        Assert.Equal(130, code);
        Assert.Equal("", error.ToString());
        using var document = JsonDocument.Parse(output.ToString());
        var e = document.RootElement.GetProperty("error");
        Assert.Equal(("cancelled", 130, "cancelled"), (e.GetProperty("kind").GetString(),
            e.GetProperty("exit_code").GetInt32(), e.GetProperty("message").GetString()));
    }

    /// <summary>The README's table says what <see cref="ExitCodes.For"/> does, kind by kind.</summary>
    [Fact]
    public void TheReadmeTableIsTheCode()
    {
        var readme = File.ReadAllText(Path.Combine(TestData.Path(""), "..", "..", "README.md"));
        var section = readme[readme.IndexOf("## Exit codes", StringComparison.Ordinal)..];
        foreach (var kind in Enum.GetValues<ErrorKind>())
        {
            Assert.Contains($"| `{kind.Name()}` | {ExitCodes.For(kind)} |", section, StringComparison.Ordinal);
        }

        var special = new[]
        {
            ("usage", ExitCodes.Usage), ("cancelled", ExitCodes.Cancelled),
            ("problems", ExitCodes.CompletedWithProblems),
        };
        foreach (var (name, code) in special)
        {
            Assert.Contains($" | {code} |", section, StringComparison.Ordinal);
            Assert.Contains(name, section, StringComparison.Ordinal);
        }
    }
}
