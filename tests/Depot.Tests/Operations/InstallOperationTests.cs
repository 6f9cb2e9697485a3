using System.Diagnostics;
using System.Text;
using Depot.Configuration;
using Depot.InstallTree;
using Depot.Operations;
using Depot.Posix;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Operations;

/// <summary>Installs greet from the real Spack caches into roots shorter and longer than the one it was built
/// in.</summary>
public class InstallOperationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    internal static TrustPolicy FixtureTrust(string mirror)
    {
        using var home = new TempDir();
        var keyring = Keyring.Open(new DepotHome(home.Path).KeysFolder);
        keyring.Import(File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")), "public.asc", "test");
        return TestData.Trusting(keyring, mirror);
    }

    internal static Mirror Source(string mirror, bool signed) =>
        Mirror.Of(new LocalDirectoryStore(mirror), signed ? FixtureTrust(mirror) : TrustPolicy.None(mirror),
            name: mirror);

    internal static Task<InstallResult> InstallAsync(Mirror source, InstallTarget target, params string[] specs) =>
        InstallOperation.RunAsync([source], specs.Select(SpecQuery.Parse).ToList(), new InstallOptions(target), null,
            Token);

    [Theory]
    [InlineData(TestData.V3Signed, "/tmp/depot-fixtures/spack-1.2/opt/spack", false)]
    [InlineData(TestData.V3Signed, "/tmp/depot-fixtures/spack-1.2/opt/spack", true)]
    [InlineData(TestData.V3Unsigned, "/tmp/depot-fixtures/spack-1.2/opt/spack", false)]
    [InlineData(TestData.V3Unsigned, "/tmp/depot-fixtures/spack-1.2/opt/spack", true)]
    [InlineData(TestData.V2Signed, "/tmp/depot-fixtures/spack-0.21/opt/spack", false)]
    [InlineData(TestData.V2Signed, "/tmp/depot-fixtures/spack-0.21/opt/spack", true)]
    [InlineData(TestData.V2Unsigned, "/tmp/depot-fixtures/spack-0.21/opt/spack", false)]
    [InlineData(TestData.V2Unsigned, "/tmp/depot-fixtures/spack-0.21/opt/spack", true)]
    public async Task GreetRunsRelocatedFromEveryFixtureMirror(string mirror, string originalRoot, bool longer)
    {
        using var temp = new TempDir();
        var root = longer ? Path.Combine(temp.Path, "a-root-longer-than-the-original-one", "opt", "tree")
            : Path.Combine(temp.Path, "r");
        Assert.True(longer ? root.Length > originalRoot.Length : root.Length < originalRoot.Length);

        using var installable = mirror.StartsWith("spack-1.2", StringComparison.Ordinal)
            ? TestData.InstallableV3(mirror) : TestData.Copy(mirror);
        var result = await InstallAsync(Source(installable.Path,
            signed: mirror is TestData.V3Signed or TestData.V2Signed), new PlainRootTarget(root), "greet");

        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        var greet = result.Outcomes.Single(o => o.Name == "greet");
        Assert.Equal(InstallStatus.Installed, greet.Status);
        Assert.Empty(greet.Relocation!.Problems);
        Assert.Empty(greet.Relocation.Leftovers);
        var prefix = greet.Prefix!;
        Assert.Equal("Hello, world.", Run(Path.Combine(prefix, "bin/greet")));
        Assert.StartsWith(root + "/", Run(Path.Combine(prefix, "bin/greet"), "--prefix").TrimStart('/').Insert(0, "/"),
            StringComparison.Ordinal);
        Assert.Contains("greet installed in " + prefix, Run(Path.Combine(prefix, "bin/greet-info")),
            StringComparison.Ordinal);
        Assert.Equal("Hello, Depot.", Run(Path.Combine(prefix, "bin/hello"), "Depot"));
        Assert.StartsWith(root + "/", new FileInfo(Path.Combine(prefix, "bin/hello")).LinkTarget,
            StringComparison.Ordinal);
        var libgreet = result.Outcomes.Single(o => o.Name == "libgreet").Prefix!;
        Assert.Equal(libgreet, File.ReadAllText(Path.Combine(libgreet, "share/libgreet/prefix.txt")).Trim());
        Assert.Contains("prefix=" + libgreet, File.ReadAllText(Path.Combine(libgreet, "lib/pkgconfig/libgreet.pc")),
            StringComparison.Ordinal);
        Assert.Empty(FilesMentioning(root, originalRoot));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(root),
            e => Path.GetFileName(e).StartsWith(".depot-tmp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InstallingAgainFindsEverythingPresentAndEnvPointsAtThePrefixes()
    {
        using var temp = new TempDir();
        var source = Source(TestData.Path(TestData.V2Signed), signed: true);
        await InstallAsync(source, new PlainRootTarget(temp.Path), "greet");
        var again = await InstallAsync(source, new PlainRootTarget(temp.Path), "greet");
        Assert.All(again.Outcomes.Where(o => o.Status != InstallStatus.External),
            o => Assert.Equal(InstallStatus.AlreadyInstalled, o.Status));

        var env = EnvironmentOperation.Run(temp.Path, [SpecQuery.Parse("greet")]);
        var path = env.Single(e => e.Variable == "PATH").Directories;
        Assert.EndsWith("/bin", path[0], StringComparison.Ordinal);
        Assert.Contains("greet-1.0.0-", path[0], StringComparison.Ordinal);
        Assert.Contains(env.Single(e => e.Variable == "LD_LIBRARY_PATH").Directories,
            d => d.Contains("libgreet-1.0.0-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IntoAnEmptySpackTreeTheDatabaseRecordsThePrefixesSpackWouldUse()
    {
        using var tree = new TempDir();
        using var mirror = TestData.InstallableV3(TestData.V3Signed);
        var result = await InstallAsync(Source(mirror.Path, signed: true), new SpackTreeTarget(tree.Path), "greet");
        Assert.False(result.AnyFailed);

        var db = await InstallDatabase.ReadAsync(tree.Path, cancellationToken: Token);
        Assert.Equal(8, db.Version);
        var greet = db.Find("ilccysmlleizqaxfvvqsb6selpnnszug")!;
        Assert.True(greet.Installed);
        Assert.True(greet.Explicit);
        Assert.Equal(Path.Combine(tree.Path, "linux-x86_64/greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug"), greet.Path);
        Assert.False(db.Find("45qqyrdm2lgdwkith6pdxfyacbtymalw")!.Explicit);
        Assert.Equal(1, db.Find("45qqyrdm2lgdwkith6pdxfyacbtymalw")!.RefCount);
        Assert.Equal("/usr", db.Find("qggmgd43aeio7nlqwjdua7qykkygiboj")!.Path); // glibc, external
        // compiler-wrapper: build dependency, not installed
        Assert.False(db.Find("kc6obsspse53r5zgsy2f2aduawquzvg3")!.Installed);
        Assert.True(File.Exists(Path.Combine(greet.Path!, ".spack/spec.json")));
        Assert.Equal("Hello, world.", Run(Path.Combine(greet.Path!, "bin/greet")));

        // A 0.21 tree cannot record Spack 1.x specs: refused before anything is unpacked into it.
        using var old = new TempDir();
        var e = await Assert.ThrowsAsync<DepotException>(() => InstallAsync(Source(TestData.Path(TestData.V3Signed),
            signed: true), new SpackTreeTarget(old.Path, 7), "greet-data"));
        Assert.Contains("database version 7 belongs to Spack 0.21-0.23", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(old.Path));
    }

    [Fact]
    public async Task PackagesWhoseDependencyFailedAreNotLeftBehind()
    {
        // The committed v3 mirror lacks gcc-runtime's tarball: gcc-runtime fails, and greet and libgreet, which link to
        // it, must not stay installed (or recorded) pointing at a prefix that is not there.
        using var tree = new TempDir();
        var result = await InstallAsync(Source(TestData.Path(TestData.V3Unsigned), signed: false),
            new SpackTreeTarget(tree.Path), "greet", "greet-data");
        Assert.Equal(InstallStatus.Failed, result.Outcomes.Single(o => o.Name == "gcc-runtime").Status);
        foreach (var name in new[] { "libgreet", "greet" })
        {
            var outcome = result.Outcomes.Single(o => o.Name == name);
            Assert.Equal(InstallStatus.Failed, outcome.Status);
            Assert.Contains("gcc-runtime/vkw5xvd did not install", outcome.Reason, StringComparison.Ordinal);
            Assert.False(Directory.Exists(outcome.Prefix), outcome.Prefix);
        }

        Assert.Equal(InstallStatus.Installed,
            result.Outcomes.Single(o => o.Name == "greet-data").Status); // independent: kept
        var db = await InstallDatabase.ReadAsync(tree.Path, cancellationToken: Token);
        Assert.Null(db.Find("ilccysmlleizqaxfvvqsb6selpnnszug"));
        Assert.True(db.Find("peahnwn7aa2lc5t6iese4dp7o7jjbnwu")!.Installed);
    }

    [Fact]
    public async Task HardLinksComeBackAsOneInodeAndEveryListedFileIsRelocated()
    {
        using var temp = new TempDir();
        var tree = Path.Combine(temp.Path, "build-root-that-is-rather-long", "opt", "spack");
        var builder = new InstallTreeBuilder(tree);
        string? built = null;
        var hash = builder.Add("tool", "1.0", p =>
        {
            built = p;
            PushOperationTests.WriteFile(p, "share/tool/paths.txt", $"data={p}/share\n");
            PushOperationTests.WriteFile(p, "bin/tool", $"#!/bin/sh\necho {p}\n");
            File.SetUnixFileMode(Path.Combine(p, "bin/tool"), (UnixFileMode)0x1ed);
            using var ln = Process.Start("ln",
                [Path.Combine(p, "share/tool/paths.txt"), Path.Combine(p, "share/tool/same.txt")]);
            ln.WaitForExit();
            File.CreateSymbolicLink(Path.Combine(p, "bin/alias"), p + "/bin/tool");
        });
        builder.WriteDatabase();
        var mirror = Path.Combine(temp.Path, "mirror");
        await PushOperationTests.PushAsync(tree, mirror, new PushOptions());

        var root = Path.Combine(temp.Path, "r");
        var result = await InstallAsync(Mirror.Of(new LocalDirectoryStore(mirror), TrustPolicy.None("m"), name: "m"),
            new PlainRootTarget(root), "tool");
        var prefix = Assert.Single(result.Outcomes, o => o.Status == InstallStatus.Installed).Prefix!;
        Assert.Equal($"data={prefix}/share", File.ReadAllText(Path.Combine(prefix, "share/tool/paths.txt")).TrimEnd());
        var a = FileStatus.Lstat(Path.Combine(prefix, "share/tool/paths.txt"));
        var b = FileStatus.Lstat(Path.Combine(prefix, "share/tool/same.txt"));
        Assert.Equal((a.Device, a.Inode), (b.Device, b.Inode));
        Assert.Equal(2u, a.Links);
        Assert.Equal(prefix, Run(Path.Combine(prefix, "bin/alias")));
        Assert.Equal(prefix + "/bin/tool", new FileInfo(Path.Combine(prefix, "bin/alias")).LinkTarget);
        Assert.Empty(FilesMentioning(root, built!));
        _ = hash;
    }

    internal static string Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} exited {process.ExitCode}: {process.StandardError.ReadToEnd()}");
        return output.TrimEnd('\n');
    }

    internal static List<string> FilesMentioning(string root, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).LinkTarget is null && File.ReadAllBytes(f).AsSpan().IndexOf(needle) >= 0)
            .Concat(Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
                .Where(f => new FileInfo(f).LinkTarget?.Contains(text, StringComparison.Ordinal) == true))
            .ToList();
    }
}
