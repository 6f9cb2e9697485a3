using System.Diagnostics;
using Depot.InstallTree;
using Depot.Operations;
using Depot.Posix;
using static Depot.Tests.Operations.InstallOperationTests;

namespace Depot.Tests.InstallTree;

/// <summary>
/// Spack's install-tree locks as another process sees them: python3's <c>fcntl.lockf</c> (the call Spack makes)
/// probes and holds the same byte ranges of <c>.spack-db/prefix_lock</c> and <c>.spack-db/lock</c>.
/// </summary>
public class InstallTreeLockingTests
{
    private const string Greet = "ilccysmlleizqaxfvvqsb6selpnnszug";
    private const string GreetData = "peahnwn7aa2lc5t6iese4dp7o7jjbnwu";
    private const string LibGreet = "45qqyrdm2lgdwkith6pdxfyacbtymalw";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static long Offset(string hash) => InstallDatabaseWriter.HashBitPrefix(hash, 63);

    // True when another process can take an exclusive lock on the range at once (it lets it go again).
    private static bool OtherProcessCanLock(string file, long offset, long length)
    {
        using var probe = Process.Start(new ProcessStartInfo("python3",
        [
            "-c",
            "import fcntl,sys\nf=open(sys.argv[1],'r+')\ntry:\n fcntl.lockf(f,fcntl.LOCK_EX|fcntl.LOCK_NB,"
                + "int(sys.argv[3]),int(sys.argv[2]))\nexcept OSError:\n sys.exit(3)\n",
            file, offset.ToString(System.Globalization.CultureInfo.InvariantCulture),
            length.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]))!;
        probe.WaitForExit();
        Assert.True(probe.ExitCode is 0 or 3, $"probe failed with exit code {probe.ExitCode}");
        return probe.ExitCode == 0;
    }

    // Another process that holds an exclusive lockf lock on the range for a while; returns once it holds it.
    private static async Task<Process> HoldAsync(string file, long offset, long length, double seconds)
    {
        var holder = Process.Start(new ProcessStartInfo("python3",
        [
            "-c",
            "import fcntl,sys,time\nf=open(sys.argv[1],'a+')\nfcntl.lockf(f,fcntl.LOCK_EX,int(sys.argv[3]),"
                + "int(sys.argv[2]))\nprint('locked',flush=True)\ntime.sleep(float(sys.argv[4]))",
            file, offset.ToString(System.Globalization.CultureInfo.InvariantCulture),
            length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            seconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ])
        { RedirectStandardOutput = true })!;
        Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync(Token));
        return holder;
    }

    [Fact]
    public void TheLockOffsetIsTheHashsFirst63Bits() =>
        // Python: int(b32decode) >> 97
        Assert.Equal(2405509498160318668L, Offset(Greet));

    [Fact]
    public async Task APrefixLockIsHeldAgainstAnotherProcessUntilReleased()
    {
        using var tree = new TempDir();
        var file = PrefixLocks.LockFile(tree.Path);
        using (await PrefixLocks.AcquireAsync(tree.Path, [Greet, GreetData], TimeSpan.FromSeconds(5), Token))
        {
            Assert.False(OtherProcessCanLock(file, Offset(Greet), 1));
            Assert.False(OtherProcessCanLock(file, Offset(GreetData), 1));
            Assert.True(OtherProcessCanLock(file, Offset(LibGreet), 1)); // only the specs asked for
        }

        Assert.True(OtherProcessCanLock(file, Offset(Greet), 1));
    }

    [Fact]
    public async Task TwoHoldersInOneProcessExcludeEachOtherAndClosingAnotherDescriptorKeepsTheLock()
    {
        // Process-wide fcntl locks would let a second holder in this process in, and closing any descriptor of the
        // file would drop them: the locks are open-file-description locks, so neither happens.
        using var tree = new TempDir();
        var file = Path.Combine(tree.Path, "lock");
        using var first = await PosixFileLock.AcquireAsync(file, exclusive: true, TimeSpan.FromSeconds(5), Token);
        var refused = await Assert.ThrowsAsync<DepotException>(() =>
            PosixFileLock.AcquireAsync(file, exclusive: true, TimeSpan.FromMilliseconds(200), Token));
        Assert.Contains(file + ": still locked by another process", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DepotException>(() =>
            PosixFileLock.AcquireAsync(file, exclusive: false, TimeSpan.FromMilliseconds(100), Token));

        File.ReadAllBytes(file); // opens and closes another descriptor of the same file
        Assert.False(OtherProcessCanLock(file, 0, 0));
        first.Dispose();
        Assert.True(OtherProcessCanLock(file, 0, 0));
    }

    [Fact]
    public async Task AnInstallHoldsItsPrefixLocksUntilTheDatabaseRecordsIt()
    {
        using var tree = new TempDir();
        using var mirror = TestData.InstallableV3(TestData.V3Signed);
        var file = PrefixLocks.LockFile(tree.Path);
        var probes = new List<(string Phase, bool Free)>();
        var progress = new SyncProgress(p =>
        {
            if (p.Hash == Greet && p.Phase is "fetch" or "done")
            {
                probes.Add((p.Phase, OtherProcessCanLock(file, Offset(Greet), 1)));
            }
        });
        var result = await InstallOperation.RunAsync([Source(mirror.Path, signed: true)],
            [Depot.Specs.SpecQuery.Parse("greet")], new InstallOptions(new SpackTreeTarget(tree.Path)), progress,
            Token);
        Assert.False(result.AnyFailed);
        Assert.Equal([("fetch", false), ("done", false)], probes); // held while installing and after the move
        Assert.True(OtherProcessCanLock(file, Offset(Greet), 1)); // released once recorded
        Assert.True((await InstallDatabase.ReadAsync(tree.Path, cancellationToken: Token)).Find(Greet)!.Installed);
    }

    [Fact]
    public async Task ConcurrentInstallsIntoOneTreeAllFinishAndTheDatabaseRecordsEachSpecOnce()
    {
        using var tree = new TempDir();
        using var mirror = TestData.InstallableV3(TestData.V3Signed);
        var source = Source(mirror.Path, signed: true);
        var target = new SpackTreeTarget(tree.Path);
        var results = await Task.WhenAll(
            Task.Run(() => InstallAsync(source, target, "greet"), Token),
            Task.Run(() => InstallAsync(source, target, "greet"), Token),
            Task.Run(() => InstallAsync(source, target, "greet-data"), Token));
        Assert.All(results, r => Assert.False(r.AnyFailed, string.Join("; ", r.Outcomes.Select(o => o.Reason))));
        // greet was installed once; the other install waited for its lock and then found it recorded.
        var greet = results.Take(2).Select(r => r.Outcomes.Single(o => o.Hash == Greet).Status).Order().ToList();
        Assert.Equal([InstallStatus.Installed, InstallStatus.AlreadyInstalled], greet);

        var json = File.ReadAllText(InstallDatabase.IndexPath(tree.Path));
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var keys = doc.RootElement.GetProperty("database").GetProperty("installs").EnumerateObject()
            .Select(p => p.Name).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        var db = await InstallDatabase.ReadAsync(tree.Path, cancellationToken: Token);
        Assert.True(db.Find(Greet)!.Installed && db.Find(Greet)!.Explicit);
        Assert.True(db.Find(GreetData)!.Installed && db.Find(GreetData)!.Explicit);
        Assert.Equal(1, db.Find(LibGreet)!.RefCount);
        Assert.Equal(0, db.Find(Greet)!.RefCount);
        Assert.Single(Directory.EnumerateDirectories(Path.Combine(tree.Path, "linux-x86_64"), "greet-1.0.0-*"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(tree.Path, "linux-x86_64"), ".depot-tmp-*"));
    }

    [Fact]
    public async Task AForeignPrefixLockMakesTheInstallWaitOrFailNamingTheLockFile()
    {
        using var tree = new TempDir();
        using var mirror = TestData.InstallableV3(TestData.V3Signed);
        var source = Source(mirror.Path, signed: true);
        Directory.CreateDirectory(Path.Combine(tree.Path, ".spack-db"));
        var file = PrefixLocks.LockFile(tree.Path);

        using (var holder = await HoldAsync(file, Offset(LibGreet), 1, 30))
        {
            var e = await Assert.ThrowsAsync<DepotException>(() => InstallAsync(source,
                new SpackTreeTarget(tree.Path, LockTimeout: TimeSpan.FromMilliseconds(300)), "greet"));
            Assert.Equal(ErrorKind.Conflict, e.Kind);
            Assert.StartsWith(file + ": still locked by another process", e.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(tree.Path, "linux-x86_64"))); // nothing installed
            holder.Kill();
            await holder.WaitForExitAsync(Token);
        }

        using var shortHolder = await HoldAsync(file, Offset(LibGreet), 1, 1.5);
        var clock = Stopwatch.StartNew();
        var result = await InstallAsync(source, new SpackTreeTarget(tree.Path), "greet");
        Assert.False(result.AnyFailed);
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(0.8), $"did not wait for the lock ({clock.Elapsed})");
        await shortHolder.WaitForExitAsync(Token);
    }

    [Fact]
    public async Task AForeignDatabaseLockMakesTheInstallWaitOrFailNamingTheLockFile()
    {
        using var tree = TestData.Copy("spack-1.2/install-tree");
        using var mirror = TestData.InstallableV3(TestData.V3Signed);
        var dbLock = Path.Combine(tree.Path, ".spack-db", "lock");
        var before = File.ReadAllBytes(InstallDatabase.IndexPath(tree.Path));
        // Spack's write lock on the database (lockf on the whole file), as a running 'spack install' holds it.
        using (var holder = await HoldAsync(dbLock, 0, 0, 30))
        {
            var e = await Assert.ThrowsAsync<DepotException>(() => InstallAsync(Source(mirror.Path, signed: true),
                new SpackTreeTarget(tree.Path, LockTimeout: TimeSpan.FromMilliseconds(300)), "greet"));
            Assert.StartsWith(dbLock + ": still locked by another process", e.Message, StringComparison.Ordinal);
            Assert.Equal(before, File.ReadAllBytes(InstallDatabase.IndexPath(tree.Path)));
            holder.Kill();
            await holder.WaitForExitAsync(Token);
        }

        using var shortHolder = await HoldAsync(dbLock, 0, 0, 1.5);
        var clock = Stopwatch.StartNew();
        var result = await InstallAsync(Source(mirror.Path, signed: true), new SpackTreeTarget(tree.Path), "greet");
        Assert.Equal(InstallStatus.AlreadyInstalled, result.Outcomes.Single(o => o.Hash == Greet).Status);
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(0.8), $"did not wait for the lock ({clock.Elapsed})");
        await shortHolder.WaitForExitAsync(Token);
    }

    private sealed class SyncProgress(Action<InstallProgress> report) : IProgress<InstallProgress>
    {
        public void Report(InstallProgress value) => report(value);
    }
}
