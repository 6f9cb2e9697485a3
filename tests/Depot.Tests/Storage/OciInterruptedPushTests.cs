using System.Diagnostics;
using Depot.Layout;
using Depot.Operations;
using Depot.Storage.Oci;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Storage;

/// <summary>A push to a registry killed (SIGKILL, a real process) during a layer upload leaves no image naming missing layers.</summary>
public sealed class OciInterruptedPushTests(DockerRegistry registry) : IClassFixture<DockerRegistry>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KilledDuringAnUploadLeavesNoImageAndTheNextPushCompletes()
    {
        using var tree = new TempDir();
        var builder = new InstallTreeBuilder(tree.Path);
        var small = builder.Add("a-small", "1.0", p => Depot.Tests.Operations.PushOperationTests.WriteFile(p, "share/a.txt", "small\n"));
        var big = builder.Add("b-big", "1.0", p =>
        {
            var data = new byte[96 << 20];
            var random = new Random(5);
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (byte)('a' + random.Next(26));
            }

            Directory.CreateDirectory(Path.Combine(p, "lib"));
            File.WriteAllBytes(Path.Combine(p, "lib/data.bin"), data);
        });
        builder.WriteDatabase();
        using var home = new TempDir();
        using var staging = new TempDir();
        var mirror = registry.Url("killed/r" + Guid.NewGuid().ToString("N")[..8]);

        var start = new ProcessStartInfo("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "Depot.Cli.dll"), "push", mirror, "--all",
            "--install-tree", tree.Path, "--unsigned", "-j", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DEPOT_HOME"] = home.Path, ["TMPDIR"] = staging.Path },
        };
        using (var push = Process.Start(start)!)
        {
            // The tarball is staged in TMPDIR first; once it stops growing, it is being uploaded.
            long last = -1;
            var clock = Stopwatch.StartNew();
            while (!push.HasExited && clock.Elapsed < TimeSpan.FromSeconds(90))
            {
                var staged = Directory.EnumerateFiles(staging.Path, "depot-staged-*").Select(f => new FileInfo(f).Length).DefaultIfEmpty(0).Max();
                if (staged > 20 << 20 && staged == last)
                {
                    break;
                }

                last = staged;
                await Task.Delay(40, Token);
            }

            if (push.HasExited)
            {
                Assert.Fail("push finished before it could be interrupted: " + await push.StandardError.ReadToEndAsync(Token));
            }

            await Task.Delay(50, Token);
            push.Kill(entireProcessTree: true);
            await push.WaitForExitAsync(Token);
        }

        // Images are written only once every layer is up: none exists, so no reader can meet a missing layer.
        using var store = new OciStore(OciReference.Parse(mirror));
        var tags = await store.Registry.ListTagsAsync(Token).ToListAsync(Token);
        Assert.DoesNotContain(tags, t => t.EndsWith(".spack", StringComparison.Ordinal));

        var db = await Depot.InstallTree.InstallDatabase.ReadAsync(tree.Path, cancellationToken: Token);
        var again = await PushOperation.RunAsync(store, db, Depot.InstallTree.PushSelection.Select(db, [], all: true), new PushOptions(), null, null, Token);
        Assert.False(again.AnyFailed, string.Join("; ", again.Outcomes.Select(o => o.Reason)));
        Assert.Equal(PushStatus.Pushed, again.Outcomes.Single(o => o.Hash == big).Status);
        Assert.Equal(PushStatus.Pushed, again.Outcomes.Single(o => o.Hash == small).Status); // its image was never written either
        var verify = await VerifyOperation.RunAsync(store, await BuildCache.DetectAsync(store, Token), Depot.Signing.TrustPolicy.None("oci"),
            new VerifyOptions([]), null, Token);
        Assert.Equal((2, 0), (verify.Checked, verify.Failures.Count));
    }
}
