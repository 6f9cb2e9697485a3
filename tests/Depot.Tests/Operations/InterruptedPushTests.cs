using System.Diagnostics;
using Depot.Layout;
using Depot.Operations;
using Depot.Storage;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Operations;

/// <summary>A push killed mid-upload (SIGKILL, a real process) leaves a valid mirror, and the next push completes
/// it.</summary>
public class InterruptedPushTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KilledMidUploadLeavesNoManifestWithoutItsBlobsAndTheNextPushCompletes()
    {
        using var tree = new TempDir();
        var builder = new InstallTreeBuilder(tree.Path);
        var small = builder.Add("a-small", "1.0", p => PushOperationTests.WriteFile(p, "share/a.txt", "small\n"));
        var big = builder.Add("b-big", "1.0", p =>
        {
            // Random letters: slow to deflate (random bytes would be stored at disk speed), so the kill lands
            // mid-write.
            var data = new byte[96 << 20];
            var random = new Random(1);
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (byte)('a' + random.Next(26));
            }

            Directory.CreateDirectory(Path.Combine(p, "lib"));
            File.WriteAllBytes(Path.Combine(p, "lib/data.bin"), data);
        });
        builder.WriteDatabase();
        using var mirror = new TempDir();
        using var home = new TempDir();

        var cli = Path.Combine(AppContext.BaseDirectory, "Depot.Cli.dll");
        var start = new ProcessStartInfo("dotnet",
            ["exec", cli, "push", mirror.Path, "--all", "--install-tree", tree.Path, "--unsigned", "-j", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DEPOT_HOME"] = home.Path },
        };
        using (var push = Process.Start(start)!)
        {
            var deadline = Stopwatch.StartNew();
            while (!StagingUnderWay(mirror.Path) && !push.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(5, Token);
            }

            if (push.HasExited)
            {
                Assert.Fail("push finished before it could be interrupted: "
                    + await push.StandardError.ReadToEndAsync(Token));
            }

            push.Kill(entireProcessTree: true);
            await push.WaitForExitAsync(Token);
        }

        // Every manifest present names blobs that are all there; the killed package has no manifest at all.
        var store = new LocalDirectoryStore(mirror.Path);
        var manifests = await store.ListKeysAsync(BuildCacheV3.SpecManifestPrefix, Token).ToListAsync(Token);
        Assert.Single(manifests, m => m.Contains(small, StringComparison.Ordinal));
        Assert.DoesNotContain(manifests, m => m.Contains(big, StringComparison.Ordinal));
        foreach (var key in manifests)
        {
            var manifest = BuildCacheManifest.Parse(await store.ReadAllBytesAsync(key, cancellationToken: Token), key);
            Assert.All(manifest.Records,
                r => Assert.True(File.Exists(Path.Combine(mirror.Path, r.BlobKey)), r.BlobKey));
        }

        var again = await PushOperationTests.PushAsync(tree.Path, mirror.Path, new PushOptions());
        Assert.Equal(PushStatus.SkippedExists, again.Outcomes.Single(o => o.Hash == small).Status);
        Assert.Equal(PushStatus.Pushed, again.Outcomes.Single(o => o.Hash == big).Status);
        var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Equal(2, listed.Rows.Count);
    }

    private static bool StagingUnderWay(string mirror) =>
        Directory.Exists(mirror)
            && Directory.EnumerateFiles(mirror, "*-staged", SearchOption.TopDirectoryOnly)
        .Any(f => new FileInfo(f).Length > (64 << 10));
}
