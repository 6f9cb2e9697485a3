using System.Diagnostics;
using Depot.InstallTree;
using Depot.Specs;

namespace Depot.Tests.InstallTree;

public class InstallDatabaseTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadsASpack021Database()
    {
        var db = await InstallDatabase.ReadAsync(TestData.Path("spack-0.21/install-tree"), cancellationToken: Token);
        Assert.Equal(7, db.Version);
        Assert.Equal(4, db.Records.Count);
        var greet = db.Find("tnhxyeebiakcjb3lvymiwx63ueuccyl6")!;
        Assert.True(greet.Installed && greet.Explicit);
        Assert.Equal("/tmp/depot-fixtures/spack-0.21/opt/spack/linux-debian12-x86_64/gcc-12.2.0/"
            + "greet-1.0.0-tnhxyeebiakcjb3lvymiwx63ueuccyl6", greet.Path);
        Assert.Equal("/usr", db.Records.Single(r => r.Spec.Name == "gmake").Path);
    }

    [Fact]
    public async Task ReadsASpack12Database()
    {
        var db = await InstallDatabase.ReadAsync(TestData.Path("spack-1.2/install-tree"), cancellationToken: Token);
        Assert.Equal(8, db.Version);
        Assert.Equal(8, db.Records.Count);
        Assert.Equal(3, db.Records.Count(r => r.Spec.IsExternal));
    }

    [Theory]
    [InlineData("{\"database\":{\"version\":\"9\",\"installs\":{}}}", "unsupported install database version '9'")]
    [InlineData("{\"database\":{}}", "no 'database.installs'")]
    [InlineData("{", "malformed JSON")]
    public void BadDatabasesAreOneLineErrors(string json, string expected)
    {
        var e = Assert.Throws<InvalidContentException>(
            () => InstallDatabase.Parse(System.Text.Encoding.UTF8.GetBytes(json), "/r", "/r/.spack-db/index.json"));
        Assert.StartsWith("/r/.spack-db/index.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheInstallTreeIsFoundFromAPathOrSpackRootOrExplained()
    {
        Assert.Equal(TestData.Path("spack-0.21/install-tree"),
            InstallTreeLocator.Resolve(TestData.Path("spack-0.21/install-tree")));
        using var spack = new TempDir();
        Directory.CreateDirectory(spack.Combine("opt", "spack", ".spack-db"));
        File.WriteAllText(spack.Combine("opt", "spack", ".spack-db", "index.json"), "{}");
        Assert.Equal(spack.Combine("opt", "spack"), InstallTreeLocator.Resolve(null, spack.Path));
        var none = Assert.Throws<DepotException>(() => InstallTreeLocator.Resolve(null, ""));
        Assert.Equal((ErrorKind.Usage, HintAction.ChooseInstallTree), (none.Kind, none.Hint?.Action));
        Assert.Contains("not a Spack install tree",
            Assert.Throws<DepotException>(() => InstallTreeLocator.Resolve("/nonexistent")).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadingWaitsForSpacksExclusiveLock()
    {
        using var copy = TestData.Copy("spack-0.21/install-tree");
        var lockFile = copy.Combine(".spack-db", "lock");
        // Another process holds Spack's write lock (fcntl, as Spack takes it) for a moment.
        using var holder = Process.Start(new ProcessStartInfo("python3",
        [
            "-c",
            "import fcntl,sys,time\nf=open(sys.argv[1],'r+')\nfcntl.lockf(f,fcntl.LOCK_EX)\n"
                + "print('locked',flush=True)\ntime.sleep(float(sys.argv[2]))",
            lockFile, "1.5",
        ])
        { RedirectStandardOutput = true })!;
        Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync(Token));

        var refused = await Assert.ThrowsAsync<DepotException>(() => InstallDatabase.ReadAsync(copy.Path,
            TimeSpan.FromMilliseconds(200), Token));
        Assert.Contains("still locked by another process", refused.Message, StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        var db = await InstallDatabase.ReadAsync(copy.Path, TimeSpan.FromSeconds(30), Token);
        Assert.Equal(4, db.Records.Count);
        Assert.True(clock.Elapsed > TimeSpan.FromMilliseconds(300), "the read should have waited for the lock");
        await holder.WaitForExitAsync(Token);
    }
}
