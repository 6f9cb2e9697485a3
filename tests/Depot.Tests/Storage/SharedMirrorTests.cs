using Depot.Posix;
using Depot.Tests.InstallTree;
using Depot.Tests.Operations;
using static Depot.Tests.Storage.SharedMirrorAccounts;

namespace Depot.Tests.Storage;

/// <summary>
/// A directory mirror shared by two Unix accounts of one group (root <c>root:depot-share</c>, mode 2770, the usual HPC
/// setup): the built <c>depot</c> runs as each account, one with umask 077 and one with 022, pushing its own install
/// tree (with one package in common) and indexing, one after the other and at the same time. Both succeed, the
/// index lists every entry, no temporary or lock file is left, and every folder Depot made is 2770 and every file
/// 0660, group depot-share. An account outside the group gets one line naming the folder, the permission and the fix.
/// </summary>
public sealed class SharedMirrorTests : IDisposable
{
    private const int Entries = 7; // three of each tree's own, and the one they share

    private readonly TempDir temp = new();
    private readonly string mirror;
    private readonly string treeA;
    private readonly string treeB;
    private readonly uint shareGid;

    public SharedMirrorTests()
    {
        Ensure();
        shareGid = GroupId(Group);
        MakeReadable(temp.Path); // a test temp folder may be 0700 under a strict umask
        mirror = temp.Combine("mirror");
        Directory.CreateDirectory(mirror);
        Chgrp(Group, mirror);
        File.SetUnixFileMode(mirror, (UnixFileMode)Convert.ToInt32("2770", 8));
        treeA = BuildTree(temp.Combine("tree-a"), "alpha");
        treeB = BuildTree(temp.Combine("tree-b"), "beta");
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => temp.Dispose();

    private string Home(string user) => temp.Combine("home-" + user);

    private static string[] Push(string mirror, string tree, params string[] more) =>
        ["push", mirror, "--all", "--install-tree", tree, "--unsigned", "-j", "4", .. more];

    [Fact]
    public async Task TwoAccountsOfOneGroupPushAndIndexOneAfterTheOtherAndLeaveNothingBehind()
    {
        Succeeded(await RunAsync(A, "077", Home(A), Push(mirror, treeA)), "push as depot-a");
        Succeeded(await RunAsync(B, "022", Home(B), Push(mirror, treeB)), "push as depot-b");
        Succeeded(await RunAsync(A, "077", Home(A), "index", mirror), "index as depot-a");
        Succeeded(await RunAsync(B, "022", Home(B), "index", mirror, "--full"), "index as depot-b");

        await AssertSharedAndWholeAsync();
    }

    [Fact]
    public async Task TwoAccountsOfOneGroupPushAndIndexAtTheSameTimeAndLeaveNothingBehind()
    {
        using (var a = Start(A, "077", Home(A), Push(mirror, treeA)))
        using (var b = Start(B, "022", Home(B), Push(mirror, treeB)))
        {
            Succeeded(await Finish(a), "push as depot-a");
            Succeeded(await Finish(b), "push as depot-b");
        }

        // Indexing at the same time, a few times over: each write of the index takes the mirror's lock.
        for (var round = 0; round < 3; round++)
        {
            using var a = Start(A, "077", Home(A), "index", mirror, "--full");
            using var b = Start(B, "022", Home(B), "index", mirror, "--full");
            Succeeded(await Finish(a), "index as depot-a");
            Succeeded(await Finish(b), "index as depot-b");
        }

        await AssertSharedAndWholeAsync();
    }

    [Fact]
    public async Task ALockFileAnOlderDepotLeftAsAnotherAccountsReadOnlyFileIsRemovedAndTheIndexWritten()
    {
        Succeeded(await RunAsync(A, "022", Home(A), Push(mirror, treeA, "--no-index")), "push as depot-a");
        Succeeded(await RunAsync(B, "022", Home(B), Push(mirror, treeB, "--no-index")), "push as depot-b");
        // What `depot index` left before: 0644, the first writer's.
        var stale = Path.Combine(mirror, ".depot-tmp-write.lock");
        await File.WriteAllBytesAsync(stale, [], Token);
        File.SetUnixFileMode(stale, (UnixFileMode)Convert.ToInt32("644", 8));
        GiveTo(A, stale);

        Succeeded(await RunAsync(B, "022", Home(B), "index", mirror), "index as depot-b");

        Assert.False(File.Exists(stale));
        await AssertSharedAndWholeAsync();
    }

    [Fact]
    public async Task AnAccountOutsideTheGroupGetsOneLineNamingTheFolderThePermissionAndTheFixAndTheMirrorIsUnchanged()
    {
        // Readable by everyone, writable by the group only.
        File.SetUnixFileMode(mirror, (UnixFileMode)Convert.ToInt32("2775", 8));
        Succeeded(await RunAsync(A, "022", Home(A), Push(mirror, treeA)), "push as depot-a");
        Succeeded(await RunAsync(B, "022", Home(B), Push(mirror, treeB, "--no-index")), "push as depot-b");
        var before = Snapshot();

        foreach (var args in new[] { new[] { "index", mirror }, Push(mirror, treeB, "--force") })
        {
            var (code, _, err) = await RunAsync(Outsider, "022", Home(Outsider), args);

            var line = err.TrimEnd('\n');
            Assert.DoesNotContain('\n', line);
            Assert.StartsWith($"depot: error: {mirror}", line);
            Assert.Matches($@": cannot (create|write in) it: no write permission on folder {mirror}(/[^ ]*)? "
                + $@"\(owner [a-z-]+, group {Group}, drwxrwsr-x\); fix: you \({Outsider}\) are not in its group "
                + $"{Group}: ask an admin to add you to it", line);
            Assert.DoesNotContain("Access to the path", line);
            Assert.Equal(Depot.Cli.ExitCodes.IO, code);
            Assert.Equal(before, Snapshot());
        }
    }

    private static void Succeeded((int Code, string Out, string Err) run, string what) =>
        Assert.True(run.Code == 0, $"{what}: exit {run.Code}\n{run.Out}\n{run.Err}");

    // Every file and folder below the mirror: its path, size, modification time and mode.
    private List<string> Snapshot() =>
        [.. Directory.EnumerateFileSystemEntries(mirror, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{f} {(File.Exists(f) ? new FileInfo(f).Length : -1)} {File.GetLastWriteTimeUtc(f):O} "
                + File.GetUnixFileMode(f))];

    private async Task AssertSharedAndWholeAsync()
    {
        var all = Directory.EnumerateFileSystemEntries(mirror, "*", SearchOption.AllDirectories).ToList();
        Assert.DoesNotContain(all, f => Path.GetFileName(f).StartsWith(".depot-tmp-", StringComparison.Ordinal)
            || Path.GetFileName(f).StartsWith(".nfs", StringComparison.Ordinal));
        foreach (var path in all)
        {
            var status = FileStatus.Lstat(path);
            var wanted = status.Kind == FileKind.Directory ? "2770" : "660";
            Assert.True(Convert.ToString(status.Mode, 8) == wanted && status.Gid == shareGid,
                $"{path}: mode {Convert.ToString(status.Mode, 8)}, group {status.Gid}; "
                + $"wanted {wanted}, group {shareGid} ({Group})");
        }

        Assert.Equal(Entries, await MirrorState.AssertWholeAsync(mirror));
        var (code, listed, err) = await RunAsync(B, "022", Home(B), "list", mirror);
        Assert.True(code == 0, err);
        foreach (var name in new[] { "alpha-1", "alpha-2", "alpha-3", "beta-1", "beta-2", "beta-3", "shared-base" })
        {
            Assert.Contains(name + "@", listed);
        }
    }

    // Three packages of the tree's own on one they share with the other tree (same spec, same hash).
    private static string BuildTree(string root, string prefix)
    {
        var builder = new InstallTreeBuilder(root);
        var shared = builder.Add("shared-base", "1.0",
            p => PushOperationTests.WriteFile(p, "lib/libshared.txt", "shared\n"));
        for (var i = 1; i <= 3; i++)
        {
            var n = i;
            builder.Add($"{prefix}-{n}", "1.0", p => PushOperationTests.WriteFile(p, $"share/{prefix}/{n}.txt",
                $"{prefix} {n}\n"), [(shared, ["build", "link"])]);
        }

        builder.WriteDatabase();
        // As Spack leaves it: a reader need not create it.
        File.WriteAllBytes(Path.Combine(root, ".spack-db", "lock"), []);
        MakeReadable(root);
        return root;
    }
}
