using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.InstallTree;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Operations;

/// <summary>
/// The index of a mirror is not signed: whatever it says, an install takes names, versions, externals, prefixes and
/// database records from the verified spec files only, and prefixes stay inside their root.
/// </summary>
public sealed class IndexTrustTests
{
    private const string GreetData = "peahnwn7aa2lc5t6iese4dp7o7jjbnwu";
    private const string Gcc = "umaathbgr6kg2kzf3jswhf573qudbx7w";
    private const string Glibc = "qggmgd43aeio7nlqwjdua7qykkygiboj";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    // gcc's record carries greet-data's hash and an external path of the attacker's
    [InlineData("key-differs-from-hash")]
    [InlineData("key-matches-hash")]      // glibc's record keeps its key and hash, but names another external path
    public async Task ARewrittenIndexDecidesNoPathAndNoDatabaseRecord(string attack)
    {
        using var mirror = TestData.InstallableV3(TestData.V3Signed);
        await RewriteIndexAsync(mirror.Path, installs =>
        {
            if (attack == "key-differs-from-hash")
            {
                var gcc = installs[Gcc]!["spec"]!;
                gcc["hash"] = GreetData;
                gcc["external"]!["path"] = "/tmp/evil";
            }
            else
            {
                installs[Glibc]!["spec"]!["external"]!["path"] = "/tmp/evil";
            }
        });

        using var tree = new TempDir();
        var result = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(mirror.Path, signed: true),
            new SpackTreeTarget(tree.Path), "greet", "greet-data");

        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        Assert.Equal("/usr", result.Outcomes.Single(o => o.Name == "glibc").Prefix);
        var indexJson = await File.ReadAllTextAsync(InstallDatabase.IndexPath(tree.Path), Token);
        Assert.DoesNotContain("/tmp/evil", indexJson, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(indexJson))
        {
            var keys = doc.RootElement.GetProperty("database").GetProperty("installs").EnumerateObject()
                .Select(p => p.Name).ToList();
            Assert.Equal(keys.Count, keys.Distinct().Count());
            Assert.All(doc.RootElement.GetProperty("database").GetProperty("installs").EnumerateObject(),
                p => Assert.Equal(p.Name, p.Value.GetProperty("spec").GetProperty("hash").GetString()));
        }

        var db = await InstallDatabase.ReadAsync(tree.Path, cancellationToken: Token);
        var greetData = db.Find(GreetData)!;
        Assert.Equal("greet-data", greetData.Spec.Name);
        Assert.False(greetData.Spec.IsExternal);
        Assert.True(greetData.Installed);
        Assert.Equal(Path.Combine(tree.Path, "linux-x86_64", "greet-data-1.0.0-" + GreetData), greetData.Path);
        Assert.True(File.Exists(Path.Combine(greetData.Path!, ".spack/spec.json")));
        Assert.Equal(("gcc", "/usr"), (db.Find(Gcc)!.Spec.Name, db.Find(Gcc)!.Path));
        Assert.Equal(("glibc", "/usr"), (db.Find(Glibc)!.Spec.Name, db.Find(Glibc)!.Path));

        if (attack == "key-differs-from-hash")
        {
            // The index itself is refused, by one line naming it and the record; listing reads the entries instead.
            var listed = await ListOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)),
                new ListOptions([]), null, Token);
            var problem = Assert.Single(listed.Problems);
            Assert.Contains($"index record {Gcc} holds a spec whose hash is {GreetData}", problem.Message,
                StringComparison.Ordinal);
            Assert.StartsWith(Path.Combine(mirror.Path, "blobs/sha256/"), problem.Message,
                StringComparison.Ordinal); // the index blob
            Assert.False(listed.FromIndex[3]);
            Assert.Equal(["compiler-wrapper", "gcc-runtime", "greet", "greet-data", "libgreet"],
                listed.Rows.Select(r => r.Name));
        }
    }

    [Fact]
    public async Task AnIndexRecordThatDescribesItsSpecFalselyDoesNotChooseWhatIsInstalled()
    {
        // greet-data's record, key and hash intact, claims build_system=cmake: the query matches the record and finds
        // greet-data's entry, whose verified spec is not what was asked for.
        using var mirror = TestData.InstallableV3(TestData.V3Signed);
        await RewriteIndexAsync(mirror.Path,
            installs => installs[GreetData]!["spec"]!["parameters"]!["build_system"] = "cmake");
        using var root = new TempDir();
        var result = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(mirror.Path, signed: true),
            new PlainRootTarget(root.Path), "greet-data build_system=cmake");

        var failed = Assert.Single(result.Outcomes);
        Assert.Equal(InstallStatus.Failed, failed.Status);
        Assert.Contains("'greet-data build_system=cmake' matched greet-data@1.0.0 in the index of", failed.Reason,
            StringComparison.Ordinal);
        Assert.Contains("but the verified spec is greet-data@1.0.0", failed.Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Path));
    }

    [Theory]
    [InlineData("spack-tree")]
    [InlineData("plain-root")]
    public async Task ASpecNamedDotDotIsRefusedAndNothingIsWrittenOutsideTheTree(string targetKind)
    {
        // A writer the installer trusts (here: an unsigned mirror installed with verification off) can name a package
        // and its version '..'; the spec file is genuine, its DAG hash recomputes.
        using var temp = new TempDir();
        var builder = new InstallTreeBuilder(temp.Combine("build"));
        var hash = builder.Add("..", "..", p => PushOperationTests.WriteFile(p, "share/dotdot.txt", "x\n"));
        builder.WriteDatabase();
        var mirror = temp.Combine("mirror");
        var pushed = await PushOperationTests.PushAsync(builder.Root, PushOperationTests.Writing(mirror,
            PushLayout.V2), new PushOptions());
        Assert.False(pushed.AnyFailed);

        var root = temp.Combine("a", "b", "tree");
        InstallTarget target = targetKind == "spack-tree"
            ? new SpackTreeTarget(root, Projection: "{name}/{version}/{hash:16}") : new PlainRootTarget(root);
        var before = Snapshot(temp.Path);
        var e = await Assert.ThrowsAsync<DepotException>(() => InstallOperationTests.InstallAsync(
            Mirror.Of(new LocalDirectoryStore(mirror), TrustPolicy.None("m"), name: "m"), target, "/" + hash));

        Assert.Contains("'..'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(before, Snapshot(temp.Path));
    }

    [Theory]
    [InlineData("{name}/{version}/{hash:16}", "x", "..")]
    [InlineData("{name}-{version}/{hash}", "x", "1.0")]
    public void ProjectionsRenderOnlyComponentsThatNameAFolder(string projection, string name, string version)
    {
        using var temp = new TempDir();
        var builder = new InstallTreeBuilder(temp.Path);
        var hash = builder.Add(name, version);
        var spec = SpecFile.Parse(File.ReadAllBytes(Path.Combine(builder.Prefix(name, version, hash),
            ".spack/spec.json")), "spec.json").Root;
        if (version == "..")
        {
            var e = Assert.Throws<DepotException>(() => Projection.Render(projection, spec));
            Assert.Contains("gives the path component '..'", e.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal($"x-1.0/{hash}", Projection.Render(projection, spec));
        }
    }

    // Rewrites the v3 index (unsigned in every Spack cache) through the layout, so its manifest and checksum match.
    internal static async Task RewriteIndexAsync(string mirror, Action<JsonObject> change)
    {
        var layout = BuildCache.ForVersion(new LocalDirectoryStore(mirror), 3);
        var (json, _) = (await layout.ReadIndexBytesAsync(Token))!.Value;
        var index = JsonNode.Parse(json)!;
        change(index["database"]!["installs"]!.AsObject());
        await layout.WriteIndexBytesAsync(Encoding.UTF8.GetBytes(index.ToJsonString()), Token);
    }

    private static List<string> Snapshot(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(folder, p)).Order(StringComparer.Ordinal).ToList();
}
