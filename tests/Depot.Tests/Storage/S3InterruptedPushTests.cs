using System.Diagnostics;
using Depot.Layout;
using Depot.Operations;
using Depot.Storage;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Storage;

/// <summary>A push killed (SIGKILL, a real process) during a multipart upload to S3 leaves no visible object.</summary>
public sealed class S3InterruptedPushTests(S3rver server) : IClassFixture<S3rver>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KilledDuringAMultipartUploadLeavesNothingVisibleAndTheNextPushCompletes()
    {
        using var tree = new TempDir();
        var builder = new InstallTreeBuilder(tree.Path);
        var small = builder.Add("a-small", "1.0", p => Depot.Tests.Operations.PushOperationTests.WriteFile(p, "share/a.txt", "small\n"));
        var big = builder.Add("b-big", "1.0", p =>
        {
            var data = new byte[96 << 20];
            var random = new Random(2);
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (byte)('a' + random.Next(26));
            }

            Directory.CreateDirectory(Path.Combine(p, "lib"));
            File.WriteAllBytes(Path.Combine(p, "lib/data.bin"), data); // ~60 MB of gzip: several 16 MiB parts
        });
        builder.WriteDatabase();
        using var home = new TempDir();
        using var staging = new TempDir();
        var prefix = "killed-" + Guid.NewGuid().ToString("N")[..8];
        var mirror = $"s3://{S3rver.Bucket}/{prefix}";

        var start = new ProcessStartInfo("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "Depot.Cli.dll"), "push", mirror, "--all",
            "--install-tree", tree.Path, "--unsigned", "-j", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["DEPOT_HOME"] = home.Path, ["TMPDIR"] = staging.Path, ["AWS_ENDPOINT_URL"] = server.Endpoint,
                ["AWS_ACCESS_KEY_ID"] = "S3RVER", ["AWS_SECRET_ACCESS_KEY"] = "S3RVER", ["AWS_REGION"] = "us-east-1",
            },
        };
        using (var push = Process.Start(start)!)
        {
            // The tarball is staged in TMPDIR first; once it stops growing, it is being uploaded in parts.
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

            await Task.Delay(100, Token);
            push.Kill(entireProcessTree: true);
            await push.WaitForExitAsync(Token);
        }

        using var store = new S3Store(S3rver.Bucket, prefix, new S3StoreOptions(server.Endpoint, "S3RVER", "S3RVER"));
        var keys = await ((IObjectStore)store).ListKeysAsync("", Token).ToListAsync(Token);
        Assert.DoesNotContain(keys, k => k.Contains(big, StringComparison.Ordinal));
        foreach (var manifestKey in keys.Where(k => k.EndsWith(".spec.manifest.json", StringComparison.Ordinal)))
        {
            var manifest = BuildCacheManifest.Parse(await store.ReadAllBytesAsync(manifestKey, cancellationToken: Token), manifestKey);
            foreach (var blob in manifest.Records)
            {
                Assert.Equal(blob.ContentLength, (await store.GetInfoAsync(blob.BlobKey, Token))?.Length);
            }
        }

        // Only complete objects are visible: every blob's content hashes to its name.
        foreach (var blobKey in keys.Where(k => k.StartsWith("blobs/", StringComparison.Ordinal)))
        {
            var bytes = await store.ReadAllBytesAsync(blobKey, cancellationToken: Token);
            Assert.Equal(blobKey[(blobKey.LastIndexOf('/') + 1)..], Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        }

        var again = await PushAgainAsync(store, tree.Path);
        Assert.Equal(PushStatus.Pushed, again.Outcomes.Single(o => o.Hash == big).Status);
        Assert.NotEqual(PushStatus.Failed, again.Outcomes.Single(o => o.Hash == small).Status);
        var listed = await ListOperation.RunAsync(store, new ListOptions([]), null, Token);
        Assert.Equal(2, listed.Rows.Count);
    }

    private static async Task<PushResult> PushAgainAsync(IObjectStore store, string tree)
    {
        var db = await Depot.InstallTree.InstallDatabase.ReadAsync(tree, cancellationToken: Token);
        return await PushOperation.RunAsync(store, db, Depot.InstallTree.PushSelection.Select(db, [], all: true), new PushOptions(), null, null, Token);
    }
}
