using System.Diagnostics;
using System.Text.Json.Nodes;
using Depot.Operations;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Operations;

/// <summary>
/// The small version of bench/crash.sh for installs into a Spack tree: <c>depot install</c> (a real process) killed
/// with SIGKILL at three seeded moments; each time the database still loads and records only complete prefixes, and
/// the next install completes.
/// </summary>
public class KilledInstallTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnInstallKilledAtAnyMomentLeavesALoadableDatabaseAndTheNextCompletes()
    {
        using var source = new TempDir();
        using var mirror = new TempDir();
        using var home = new TempDir();
        var builder = new InstallTreeBuilder(source.Path);
        var hashes = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var n = i;
            hashes.Add(builder.Add($"pkg{i}", "1.0", p => PushOperationTests.WriteFile(p, $"share/{n}.txt",
                new string('x', 200_000)), i == 0 ? null : [(hashes[0], ["build", "link"])]));
        }

        builder.WriteDatabase();
        Assert.False((await PushOperationTests.PushAsync(source.Path, mirror.Path, new PushOptions())).AnyFailed);

        foreach (var seed in new[] { 21, 22, 23 })
        {
            using var tree = new TempDir();
            var delay = new Random(seed).Next(100, 1500);
            var start = new ProcessStartInfo("dotnet",
                ["exec", Path.Combine(AppContext.BaseDirectory, "Depot.Cli.dll"), "install",
                .. hashes.Select(h => "/" + h), "--from", mirror.Path, "--install-tree", tree.Path, "--no-verify"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["DEPOT_HOME"] = home.Path },
            };
            using (var install = Process.Start(start)!)
            {
                await Task.Delay(delay, Token);
                install.Kill(entireProcessTree: true);
                await install.WaitForExitAsync(Token);
            }

            var db = Path.Combine(tree.Path, ".spack-db", "index.json");
            if (File.Exists(db))
            {
                var records = JsonNode.Parse(await File.ReadAllTextAsync(db, Token))!["database"]!["installs"]!
                    .AsObject();
                Assert.All(records, r => Assert.True(
                    File.Exists(Path.Combine((string)r.Value!["path"]!, ".spack", "spec.json")),
                    $"seed {seed}: the database records {r.Key}, whose prefix is not complete"));
            }

            var rerun = await InstallOperationTests.InstallAsync(
                InstallOperationTests.Source(mirror.Path, signed: false), new SpackTreeTarget(tree.Path),
                [.. hashes.Select(h => "/" + h)]);
            Assert.False(rerun.AnyFailed,
                $"seed {seed} ({delay} ms): " + string.Join("; ", rerun.Outcomes.Select(o => o.Reason)));
            var recorded = JsonNode.Parse(await File.ReadAllTextAsync(db, Token))!["database"]!["installs"]!
                .AsObject().Select(r => r.Key).ToHashSet();
            Assert.Superset(recorded, hashes.ToHashSet());
        }
    }
}
