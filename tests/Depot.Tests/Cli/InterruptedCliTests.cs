using System.Diagnostics;
using System.Text.Json;
using Depot.Tests.InstallTree;
using Depot.Tests.Operations;

namespace Depot.Tests.Cli;

/// <summary>
/// The built <c>depot</c> as a child process, interrupted with SIGINT (Ctrl-C) while a push is under way: it stops
/// within seconds with exit code 130, says so on one line (or as the JSON error object), and leaves a whole mirror.
/// </summary>
public sealed class InterruptedCliTests : IDisposable
{
    private readonly TempDir tree = new();
    private readonly List<string> hashes = [];

    public InterruptedCliTests()
    {
        var builder = new InstallTreeBuilder(tree.Path);
        foreach (var name in new[] { "a-big", "b-big", "c-big", "d-big", "e-big", "f-big" })
        {
            hashes.Add(builder.Add(name, "1.0", p =>
            {
                // Random letters: slow to deflate, so a push of six takes several seconds.
                var data = new byte[48 << 20];
                var random = new Random(name[0]);
                for (var i = 0; i < data.Length; i++)
                {
                    data[i] = (byte)('a' + random.Next(26));
                }

                Directory.CreateDirectory(Path.Combine(p, "lib"));
                File.WriteAllBytes(Path.Combine(p, "lib/data.bin"), data);
            }));
        }

        builder.WriteDatabase();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    // SIGINT to the depot process itself (the apphost, which env execs: same pid, no wrapper shell).
    private static async Task InterruptAsync(int pid)
    {
        using var kill = Process.Start("kill",
            ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync(Token);
        Assert.Equal(0, kill.ExitCode);
    }

    public void Dispose() => tree.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SigintDuringAPushExits130PromptlyAndLeavesNothingHalfWritten(bool json)
    {
        using var mirror = new TempDir();
        using var home = new TempDir();
        var cli = Path.Combine(AppContext.BaseDirectory, "Depot.Cli");
        // A runner started in the background by a script inherits SIGINT ignored, and so would depot: env restores
        // the default disposition, as an interactive shell gives it, then execs depot's apphost (same pid).
        var start = new ProcessStartInfo("env", ["--default-signal=INT", cli, "push", mirror.Path, "--all",
            "--install-tree", tree.Path, "--unsigned", "-j", "1", .. json ? new[] { "--json" } : []])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DEPOT_HOME"] = home.Path },
        };
        using var push = Process.Start(start)!;
        var stdout = push.StandardOutput.ReadToEndAsync(Token);
        var stderr = push.StandardError.ReadToEndAsync(Token);
        // One package at a time (six of 48 MB of random letters, about 1 s each to deflate here): once the first
        // object is in the mirror, depot has started (its Ctrl-C handler is in place: a signal before that would end
        // the runtime with 130 and no report) and the last package is not started. Waiting for that, rather than a
        // fixed time, keeps the test true on a loaded machine.
        var clock = Stopwatch.StartNew();
        while (!push.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)
            && !Directory.EnumerateFiles(mirror.Path, "*", SearchOption.AllDirectories).Any())
        {
            await Task.Delay(50, Token);
        }

        if (push.HasExited)
        {
            // (The output is read only here: awaiting it sooner would wait for depot to end.)
            Assert.Fail($"push finished before it could be interrupted: {await stdout}{await stderr}");
        }

        if (!Directory.EnumerateFiles(mirror.Path, "*", SearchOption.AllDirectories).Any())
        {
            push.Kill(entireProcessTree: true);
            Assert.Fail("depot push wrote nothing to the mirror within 60 s: nothing to interrupt");
        }

        await InterruptAsync(push.Id);

        var interrupted = Stopwatch.StartNew();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(Token);
        wait.CancelAfter(TimeSpan.FromSeconds(20));
        await push.WaitForExitAsync(wait.Token);
        var stopped = interrupted.Elapsed;

        Assert.True(130 == push.ExitCode, $"exit {push.ExitCode}: {await stdout} {await stderr}");
        Assert.True(stopped < TimeSpan.FromSeconds(10), $"stopped {stopped.TotalSeconds:F1} s after SIGINT");
        if (json)
        {
            using var document = JsonDocument.Parse(await stdout);
            var error = document.RootElement.GetProperty("error");
            Assert.Equal(("cancelled", 130), (error.GetProperty("kind").GetString(),
                error.GetProperty("exit_code").GetInt32()));
            Assert.Equal("", await stderr);
        }
        else
        {
            Assert.Equal("depot: cancelled", (await stderr).Trim());
        }

        // No temporary object, every entry there whole and listed, and none of the package not yet started.
        Assert.True(await MirrorState.AssertWholeAsync(mirror.Path) < hashes.Count);
        Assert.DoesNotContain(Directory.EnumerateFiles(mirror.Path, "*", SearchOption.AllDirectories),
            f => f.Contains(hashes[^1], StringComparison.Ordinal));
    }
}
