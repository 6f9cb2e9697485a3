using System.Diagnostics;
using System.Text.Json;
using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// The built <c>depot</c> as a child process, installing from an HTTP mirror whose server stalls greet's tarball, and
/// interrupted with SIGINT (Ctrl-C) then: it exits 130 and says, per package, what had finished (gcc-runtime and
/// libgreet, taken out again so the tree is as it was) and what had not (greet), as text or inside the
/// <c>--json</c> document; the root holds no prefix.
/// </summary>
public sealed class InterruptedInstallCliTests : IAsyncDisposable
{
    private readonly TempDir mirror = TestData.InstallableV3(TestData.V3Unsigned);
    private readonly TempDir scratch = new();
    private HostileServer? server;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        mirror.Dispose();
        scratch.Dispose();
    }

    // Serves the mirror's files; the one at `stalled` never sends its body (until the client goes away).
    private async Task<string> ServeAsync(string stalled)
    {
        server = await HostileServer.StartAsync("127.0.0.1", async context =>
        {
            var key = Uri.UnescapeDataString(context.Request.Path.Value!.TrimStart('/'));
            var file = Path.Combine(mirror.Path, key);
            if (key.Contains("..", StringComparison.Ordinal) || !File.Exists(file))
            {
                context.Response.StatusCode = 404;
                return;
            }

            if (key == stalled)
            {
                await context.Response.StartAsync(context.RequestAborted);
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }

            var bytes = await File.ReadAllBytesAsync(file, context.RequestAborted);
            context.Response.ContentLength = bytes.Length;
            if (context.Request.Method != "HEAD")
            {
                await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
            }
        });
        return server.Origin;
    }

    // greet's tarball blob, from its spec manifest.
    private string GreetTarball()
    {
        var manifest = Directory.EnumerateFiles(Path.Combine(mirror.Path, "v3/manifests/spec/greet"),
            "greet-1.0.0-*.spec.manifest.json").Single();
        var text = File.ReadAllText(manifest);
        var json = text[text.IndexOf('{', StringComparison.Ordinal)..(text.LastIndexOf('}') + 1)];
        using var document = JsonDocument.Parse(json);
        var checksum = document.RootElement.GetProperty("data").EnumerateArray()
            .Single(r => r.GetProperty("mediaType").GetString() == Depot.Layout.MediaTypes.Tarball)
            .GetProperty("checksum").GetString()!;
        return $"blobs/sha256/{checksum[..2]}/{checksum}";
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SigintDuringAnInstallReportsWhatFinishedAndWhatDidNotAndExits130(bool json)
    {
        var stalled = GreetTarball();
        var origin = await ServeAsync(stalled);
        var root = Path.Combine(scratch.Path, "root");
        var home = Path.Combine(scratch.Path, "home");
        var cli = Path.Combine(AppContext.BaseDirectory, "Depot.Cli");
        // One package at a time, dependencies first: gcc-runtime and libgreet install, greet's tarball never comes.
        var start = new ProcessStartInfo("env", ["--default-signal=INT", cli, "install", "greet", "--from", origin,
            "--root", root, "--no-verify", "-j", "1", .. json ? new[] { "--json" } : []])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DEPOT_HOME"] = home },
        };
        using var install = Process.Start(start)!;
        var stdout = install.StandardOutput.ReadToEndAsync(Token);
        var stderr = install.StandardError.ReadToEndAsync(Token);
        // Interrupted once greet's tarball was asked for (the server records a request before answering it).
        var clock = Stopwatch.StartNew();
        while (!server!.Requests.Any(r => r.Target.EndsWith(stalled, StringComparison.Ordinal)))
        {
            Assert.False(install.HasExited || clock.Elapsed > TimeSpan.FromSeconds(30),
                $"greet's tarball was never asked for: {(install.HasExited ? await stdout + await stderr : "")}");
            await Task.Delay(100, Token);
        }

        using var kill = Process.Start("kill", ["-INT", install.Id.ToString(
            System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync(Token);
        Assert.Equal(0, kill.ExitCode);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(Token);
        wait.CancelAfter(TimeSpan.FromSeconds(20));
        await install.WaitForExitAsync(wait.Token);

        var (output, error) = (await stdout, await stderr);
        Assert.True(install.ExitCode == 130, $"exit {install.ExitCode}: {output} {error}");
        if (json)
        {
            Assert.Equal("", error);
            using var document = JsonDocument.Parse(output);
            var specs = document.RootElement.GetProperty("specs").EnumerateArray()
                .ToDictionary(s => s.GetProperty("name").GetString()!, s => s);
            Assert.All(new[] { "gcc-runtime", "libgreet", "greet" },
                name => Assert.Equal("cancelled", specs[name].GetProperty("status").GetString()));
            Assert.StartsWith("cancelled: it had finished", specs["libgreet"].GetProperty("reason").GetString(),
                StringComparison.Ordinal);
            Assert.Equal("cancelled while it was being installed", specs["greet"].GetProperty("reason").GetString());
            Assert.Equal("external", specs["glibc"].GetProperty("status").GetString());
            var failure = document.RootElement.GetProperty("error");
            Assert.Equal(("cancelled", 130), (failure.GetProperty("kind").GetString(),
                failure.GetProperty("exit_code").GetInt32()));
        }
        else
        {
            Assert.Equal("depot: cancelled", error.Trim());
            Assert.Matches(@"stopped   gcc-runtime@12\.2\.0 /\w{7}: cancelled: it had finished", output);
            Assert.Matches(@"stopped   libgreet@1\.0\.0 /\w{7}: cancelled: it had finished", output);
            Assert.Matches(@"stopped   greet@1\.0\.0 /\w{7}: cancelled while it was being installed", output);
            Assert.Contains($"{root}: installed 0, already present 0, failed 0, cancelled 3 (2 of them had finished "
                + "and were removed again: the tree is as it was)", output, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any(),
            "the root keeps " + string.Join(", ", Directory.Exists(root) ? Directory.GetFileSystemEntries(root) : []));
    }
}
