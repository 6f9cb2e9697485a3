using System.Diagnostics;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Storage;

/// <summary>
/// A push run as a real process and killed (SIGKILL) while it uploads a large tarball: the interrupted-push tests of
/// every store share the tree (a small package and a ~96 MB one) and the moment of the kill.
/// </summary>
internal static class KilledPush
{
    /// <summary>Writes the install tree; returns the hashes of the small and the big package.</summary>
    public static (string Small, string Big) BuildTree(string tree, int seed)
    {
        var builder = new InstallTreeBuilder(tree);
        var small = builder.Add("a-small", "1.0",
            p => Depot.Tests.Operations.PushOperationTests.WriteFile(p, "share/a.txt", "small\n"));
        var big = builder.Add("b-big", "1.0", p =>
        {
            var data = new byte[96 << 20];
            var random = new Random(seed);
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (byte)('a' + random.Next(26));
            }

            Directory.CreateDirectory(Path.Combine(p, "lib"));
            File.WriteAllBytes(Path.Combine(p, "lib/data.bin"), data); // ~60 MB of gzip
        });
        builder.WriteDatabase();
        return (small, big);
    }

    /// <summary>
    /// Runs <c>depot push MIRROR --all</c> on the tree, -j 1, and kills it once the big tarball is staged in
    /// <paramref name="staging"/> (its TMPDIR) and has stopped growing, that is, while it is being uploaded; fails
    /// the test if that moment never comes.
    /// </summary>
    public static async Task RunAndKillAsync(string mirror, string tree, string home, string staging,
        IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet",
            ["exec", Path.Combine(AppContext.BaseDirectory, "Depot.Cli.dll"), "push", mirror, "--all",
            "--install-tree", tree, "--unsigned", "-j", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DEPOT_HOME"] = home;
        start.Environment["TMPDIR"] = staging;
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var push = Process.Start(start)!;
        long last = -1;
        var staged = 0L;
        var uploading = false;
        var clock = Stopwatch.StartNew();
        while (!push.HasExited && clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            staged = Directory.EnumerateFiles(staging, "depot-staged-*", SearchOption.AllDirectories)
                .Select(f => new FileInfo(f).Length).DefaultIfEmpty(0).Max();
            if (staged > 20 << 20 && staged == last)
            {
                uploading = true;
                break;
            }

            last = staged;
            await Task.Delay(40, cancellationToken);
        }

        if (push.HasExited)
        {
            Assert.Fail("push finished before it could be interrupted: "
                + await push.StandardError.ReadToEndAsync(cancellationToken));
        }

        if (!uploading)
        {
            // Killing now would test a push that never reached its upload: the test would pass without testing.
            push.Kill(entireProcessTree: true);
            Assert.Fail($"the big tarball was never staged whole within 90 s (largest staged file: {staged} bytes)");
        }

        await Task.Delay(75, cancellationToken);
        push.Kill(entireProcessTree: true);
        await push.WaitForExitAsync(cancellationToken);
    }
}
