using System.Text.Json.Nodes;
using Depot.Operations;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Operations;

/// <summary>
/// An install into a Spack tree killed between moving a prefix into place and writing its database record (what
/// bench/crash.sh found): the prefix is complete but unrecorded, and the next install must complete it.
/// </summary>
public class InterruptedInstallTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnUnrecordedPrefixOfTheSameSpecIsReplacedAndRecorded()
    {
        using var source = new TempDir();
        using var mirror = new TempDir();
        using var tree = new TempDir();
        var builder = new InstallTreeBuilder(source.Path);
        var lib = builder.Add("libz", "1.0", p => PushOperationTests.WriteFile(p, "lib/libz.txt", "z\n"));
        var app = builder.Add("app", "2.0", p => PushOperationTests.WriteFile(p, "bin/app", "app\n"),
            [(lib, ["build", "link"])]);
        builder.WriteDatabase();
        Assert.False((await PushOperationTests.PushAsync(source.Path, mirror.Path, new PushOptions())).AnyFailed);

        var first = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(mirror.Path, signed: false),
            new SpackTreeTarget(tree.Path), "/" + app);
        Assert.False(first.AnyFailed, string.Join("; ", first.Outcomes.Select(o => o.Reason)));
        var prefix = first.Outcomes.Single(o => o.Hash == app).Prefix!;

        // The state a SIGKILL leaves after the move and before the record: the prefix whole, the record absent.
        ForgetRecord(tree.Path, app);
        File.WriteAllText(Path.Combine(prefix, "bin", "app"), "left by the killed install\n");

        var again = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(mirror.Path, signed: false),
            new SpackTreeTarget(tree.Path), "/" + app);

        Assert.False(again.AnyFailed, string.Join("; ", again.Outcomes.Select(o => o.Reason)));
        Assert.Equal(InstallStatus.Installed, again.Outcomes.Single(o => o.Hash == app).Status);
        Assert.Equal("app\n", File.ReadAllText(Path.Combine(prefix, "bin", "app")));
        Assert.True(Records(tree.Path).ContainsKey(app));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(prefix)!, ".depot-tmp-*"));
    }

    [Fact]
    public async Task AnUnrecordedPrefixThatIsNotThatSpecIsLeftAloneAndRefused()
    {
        using var source = new TempDir();
        using var mirror = new TempDir();
        using var tree = new TempDir();
        var builder = new InstallTreeBuilder(source.Path);
        var lib = builder.Add("libz", "1.0", p => PushOperationTests.WriteFile(p, "lib/libz.txt", "z\n"));
        builder.WriteDatabase();
        Assert.False((await PushOperationTests.PushAsync(source.Path, mirror.Path, new PushOptions())).AnyFailed);
        var first = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(mirror.Path, signed: false),
            new SpackTreeTarget(tree.Path), "/" + lib);
        var prefix = first.Outcomes.Single().Prefix!;
        ForgetRecord(tree.Path, lib);
        File.Delete(Path.Combine(prefix, ".spack", "spec.json")); // no longer provably that spec: someone's folder

        var again = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(mirror.Path, signed: false),
            new SpackTreeTarget(tree.Path), "/" + lib);

        var outcome = again.Outcomes.Single();
        Assert.Equal(InstallStatus.Failed, outcome.Status);
        Assert.Equal($"{prefix} exists but the database does not record it: remove it or run 'spack reindex'",
            outcome.Reason);
        Assert.True(File.Exists(Path.Combine(prefix, "lib", "libz.txt")));
    }

    private static JsonObject Records(string tree) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(tree, ".spack-db", "index.json")))!["database"]!["installs"]!
            .AsObject();

    private static void ForgetRecord(string tree, string hash)
    {
        var path = Path.Combine(tree, ".spack-db", "index.json");
        var db = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.True(db["database"]!["installs"]!.AsObject().Remove(hash));
        File.WriteAllText(path, db.ToJsonString());
    }
}
