using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.Operations;
using Depot.Tests.Operations;

namespace Depot.Tests.InstallTree;

/// <summary>
/// Installs into a copy of an install tree real Spack made (1.2: database 8; 0.21: database 7), which already records
/// libgreet, greet and greet-data: what Spack wrote must stay as it wrote it, and what Depot adds must read as Spack
/// would have written it.
/// </summary>
public class PopulatedTreeInstallTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string> Trees => new()
    {
        { "spack-1.2/install-tree", TestData.V3Signed, "/tmp/depot-fixtures/spack-1.2/opt/spack" },
        { "spack-0.21/install-tree", TestData.V2Signed, "/tmp/depot-fixtures/spack-0.21/opt/spack" },
    };

    [Theory]
    [MemberData(nameof(Trees))]
    public async Task ARemovedRootReinstalledFromSpacksMirrorGivesBackSpacksRecordsAndRefCounts(string tree,
        string mirror, string spackRoot)
    {
        using var copy = TestData.Copy(tree);
        using var source = TestData.Copy(mirror);
        var index = Depot.InstallTree.InstallDatabase.IndexPath(copy.Path);
        var spackBytes = await File.ReadAllBytesAsync(index, Token);
        var spack = JsonNode.Parse(spackBytes)!.AsObject();
        var spackInstalls = Installs(spack);
        var (hash, name) = LeafMostRoot(spackInstalls);
        var spackRecord = spackInstalls[hash]!.AsObject();
        var spackPath = (string)spackRecord["path"]!;
        Assert.StartsWith(spackRoot + "/", spackPath, StringComparison.Ordinal);
        var dependencies = DependencyHashes(spackRecord);
        Assert.NotEmpty(dependencies); // a root with dependencies, so their ref_counts have something to follow

        // Take it out as 'spack uninstall' would: its record gone, its dependencies' ref_count one lower, its prefix
        // deleted.
        var removed = spack.DeepClone().AsObject();
        var removedInstalls = Installs(removed);
        removedInstalls.Remove(hash);
        foreach (var dep in dependencies)
        {
            var record = removedInstalls[dep]!.AsObject();
            record["ref_count"] = (int)record["ref_count"]! - 1;
        }

        await File.WriteAllTextAsync(index, removed.ToJsonString(), Token);
        var prefix = copy.Path + spackPath[spackRoot.Length..];
        Directory.Delete(prefix, recursive: true);

        var result = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(source.Path, signed: true),
            new SpackTreeTarget(copy.Path), $"{name}/{hash}");

        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        var outcome = Assert.Single(result.Outcomes, o => o.Hash == hash);
        Assert.Equal(InstallStatus.Installed, outcome.Status);
        Assert.Equal(prefix, outcome.Prefix);
        Assert.All(result.Outcomes.Where(o => o.Hash != hash),
            o => Assert.Contains(o.Status, new[] { InstallStatus.AlreadyInstalled, InstallStatus.External }));
        Assert.True(File.Exists(Path.Combine(prefix, ".spack", "spec.json")));
        // Linked to the tree's own libgreet.
        Assert.Equal("Hello, world.", InstallOperationTests.Run(Path.Combine(prefix, "bin", name)));

        var depotBytes = await File.ReadAllBytesAsync(index, Token);
        AssertNoDuplicateKeys(depotBytes);
        var depot = JsonNode.Parse(depotBytes)!.AsObject();
        AssertSameShape(spack, depot);
        var depotInstalls = Installs(depot);
        Assert.Equal(spackInstalls.Select(p => p.Key).Order(StringComparer.Ordinal),
            depotInstalls.Select(p => p.Key).Order(StringComparer.Ordinal));
        foreach (var (key, value) in spackInstalls.Where(p => p.Key != hash))
        {
            AssertSameFields(value!.AsObject(), depotInstalls[key]!.AsObject(), key, except: null);
        }

        // The reinstalled record: the fields Spack wrote, the path moved to the copy's root, a new installation time.
        var reinstalled = depotInstalls[hash]!.AsObject();
        var expected = spackRecord.DeepClone().AsObject();
        expected["path"] = prefix;
        AssertSameFields(expected, reinstalled, hash, except: "installation_time");
        Assert.Equal(JsonValueKind.Number, reinstalled["installation_time"]!.GetValueKind());

        // And installing it again now changes nothing.
        var again = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(source.Path, signed: true),
            new SpackTreeTarget(copy.Path), $"{name}/{hash}");
        Assert.Equal(InstallStatus.AlreadyInstalled, again.Outcomes.Single(o => o.Hash == hash).Status);
        Assert.Equal(prefix, again.Outcomes.Single(o => o.Hash == hash).Prefix);
        Assert.Equal(depotBytes, await File.ReadAllBytesAsync(index, Token));
    }

    [Theory]
    [MemberData(nameof(Trees))]
    public async Task InstallingEverySpecSpackRecordedFindsThemInstalledAndLeavesTheDatabaseBytesAlone(string tree,
        string mirror, string spackRoot)
    {
        using var copy = TestData.Copy(tree);
        using var source = TestData.Copy(mirror);
        var index = Depot.InstallTree.InstallDatabase.IndexPath(copy.Path);
        var spackBytes = await File.ReadAllBytesAsync(index, Token);
        var installed = Installs(JsonNode.Parse(spackBytes)!.AsObject())
            .Where(p => (bool)p.Value!["installed"]! && p.Value["spec"]!["external"] is null)
            .Select(p => (Hash: p.Key, Name: (string)p.Value!["spec"]!["name"]!, Path: (string)p.Value["path"]!))
            .ToList();
        Assert.True(installed.Count >= 3, $"{tree} records {installed.Count} installed specs");

        var result = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(source.Path, signed: true),
            new SpackTreeTarget(copy.Path), [.. installed.Select(s => $"{s.Name}/{s.Hash}")]);

        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        foreach (var (hash, _, path) in installed)
        {
            var outcome = result.Outcomes.Single(o => o.Hash == hash);
            Assert.Equal(InstallStatus.AlreadyInstalled, outcome.Status);
            Assert.Equal(copy.Path + path[spackRoot.Length..], outcome.Prefix);
        }

        Assert.Equal(spackBytes, await File.ReadAllBytesAsync(index, Token));
    }

    [Theory]
    [MemberData(nameof(Trees))]
    public async Task AMovedTreeWhoseFirstRecordNamesTheNewRootStillMapsSpacksPrefixesIntoIt(string tree,
        string mirror, string spackRoot)
    {
        _ = mirror;
        using var copy = TestData.Copy(tree);
        var index = Depot.InstallTree.InstallDatabase.IndexPath(copy.Path);
        var spack = JsonNode.Parse(await File.ReadAllBytesAsync(index, Token))!.AsObject();
        var installs = Installs(spack);
        var (hash, _) = LeafMostRoot(installs);

        // As after an install into the moved tree, but with the new record first in the file.
        var moved = installs[hash]!.DeepClone().AsObject();
        moved["path"] = copy.Path + ((string)moved["path"]!)[spackRoot.Length..];
        var reordered = new JsonObject { [hash] = moved };
        foreach (var (key, value) in installs.Where(p => p.Key != hash))
        {
            reordered[key] = value!.DeepClone();
        }

        spack["database"]!["installs"] = reordered;
        await File.WriteAllTextAsync(index, spack.ToJsonString(), Token);

        var db = await Depot.InstallTree.InstallDatabase.ReadAsync(copy.Path, cancellationToken: Token);
        Assert.Equal(spackRoot, db.RecordedRoot);
        var local = db.Records.Where(r => r.Installed && !r.Spec.IsExternal).ToList();
        Assert.Equal(installs.Count(p => (bool)p.Value!["installed"]! && p.Value["spec"]!["external"] is null),
            local.Count);
        foreach (var record in local)
        {
            var expected = copy.Path + ((string)installs[record.Spec.Hash]!["path"]!)[spackRoot.Length..];
            Assert.Equal(expected, db.LocalPrefix(record));
            Assert.True(Directory.Exists(expected), expected);
        }
    }

    [Theory]
    [MemberData(nameof(Trees))]
    public async Task ANewSpecOverInstalledDependenciesIsAddedBesideSpacksRecordsWhichKeepTheirFields(string tree,
        string mirror, string spackRoot)
    {
        _ = mirror;
        using var build = TestData.Copy(tree);
        using var pushed = new TempDir();
        var (name, oldHash, newHash, node) = await PushVariantOfRootAsync(build.Path, pushed.Path);

        using var copy = TestData.Copy(tree);
        var index = Depot.InstallTree.InstallDatabase.IndexPath(copy.Path);
        var spack = JsonNode.Parse(await File.ReadAllBytesAsync(index, Token))!.AsObject();
        var spackInstalls = Installs(spack);
        var dependencies = DependencyHashes(spackInstalls[oldHash]!.AsObject());
        var result = await InstallOperationTests.InstallAsync(
            Depot.Operations.Mirror.Of(new Depot.Storage.LocalDirectoryStore(pushed.Path),
                Depot.Signing.TrustPolicy.None("variant"), name: "variant"),
            new SpackTreeTarget(copy.Path), $"{name}/{newHash}");

        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        var outcome = Assert.Single(result.Outcomes, o => o.Hash == newHash);
        Assert.Equal(InstallStatus.Installed, outcome.Status);
        var oldPath = (string)spackInstalls[oldHash]!["path"]!;
        var prefix = copy.Path + oldPath[spackRoot.Length..].Replace(oldHash, newHash, StringComparison.Ordinal);
        Assert.Equal(prefix, outcome.Prefix);
        Assert.All(result.Outcomes.Where(o => o.Hash != newHash),
            o => Assert.Contains(o.Status, new[] { InstallStatus.AlreadyInstalled, InstallStatus.External }));
        Assert.Equal("Hello, world.", InstallOperationTests.Run(Path.Combine(prefix, "bin", name)));

        var depotBytes = await File.ReadAllBytesAsync(index, Token);
        AssertNoDuplicateKeys(depotBytes);
        var depot = JsonNode.Parse(depotBytes)!.AsObject();
        AssertSameShape(spack, depot);
        var depotInstalls = Installs(depot);
        Assert.Equal(spackInstalls.Select(p => p.Key).Append(newHash).Order(StringComparer.Ordinal),
            depotInstalls.Select(p => p.Key).Order(StringComparer.Ordinal));
        foreach (var (key, value) in spackInstalls)
        {
            var expected = value!.DeepClone().AsObject();
            if (dependencies.Contains(key))
            {
                expected["ref_count"] = (int)expected["ref_count"]! + 1; // one more dependent
            }

            AssertSameFields(expected, depotInstalls[key]!.AsObject(), key, except: null);
        }

        // Spack's fields, in Spack's order, for the new record.
        var added = spackInstalls[oldHash]!.DeepClone().AsObject();
        added["spec"] = node.DeepClone();
        added["path"] = prefix;
        added["ref_count"] = 0;
        added["explicit"] = true;
        AssertSameFields(added, depotInstalls[newHash]!.AsObject(), newHash, except: "installation_time");
    }

    // Makes the leaf-most root of a Spack tree copy into another spec over the same dependencies (its package_hash
    // changed, so its DAG hash), moves its prefix and record to the new hash, and pushes it, unsigned.
    private static async Task<(string Name, string OldHash, string NewHash, JsonObject Node)> PushVariantOfRootAsync(
        string build, string mirror)
    {
        var index = Depot.InstallTree.InstallDatabase.IndexPath(build);
        var db = JsonNode.Parse(await File.ReadAllBytesAsync(index, Token))!.AsObject();
        var installs = Installs(db);
        var (oldHash, name) = LeafMostRoot(installs);
        var record = installs[oldHash]!.AsObject();
        var node = record["spec"]!.DeepClone().AsObject();
        var packageHash = (string)node["package_hash"]!;
        node["package_hash"] = (packageHash[0] == 'a' ? "b" : "a") + packageHash[1..];
        var newHash = Depot.Specs.DagHash.Compute(JsonSerializer.SerializeToElement(node));
        Assert.NotEqual(oldHash, newHash);
        node["hash"] = newHash;

        var oldPath = (string)record["path"]!;
        var recordedRoot = (await Depot.InstallTree.InstallDatabase.ReadAsync(build, cancellationToken: Token))
            .RecordedRoot;
        var oldLocal = build + oldPath[recordedRoot.Length..];
        var newLocal = oldLocal.Replace(oldHash, newHash, StringComparison.Ordinal);
        Directory.Move(oldLocal, newLocal);
        RenameHashInside(newLocal, oldHash, newHash);
        var specFile = Path.Combine(newLocal, ".spack", "spec.json");
        var spec = JsonNode.Parse(await File.ReadAllBytesAsync(specFile, Token))!.AsObject();
        var nodes = spec["spec"]!["nodes"]!.AsArray();
        var at = nodes.Select((n, i) => (n, i)).Single(p => (string)p.n!["hash"]! == newHash).i; // renamed above
        nodes[at] = node.DeepClone();
        await File.WriteAllTextAsync(specFile, spec.ToJsonString(), Token);

        var moved = record.DeepClone().AsObject();
        moved["spec"] = node.DeepClone();
        moved["path"] = oldPath.Replace(oldHash, newHash, StringComparison.Ordinal);
        installs.Remove(oldHash);
        installs[newHash] = moved;
        await File.WriteAllTextAsync(index, db.ToJsonString(), Token);

        var push = await PushOperationTests.PushAsync(build, mirror, new PushOptions(), $"{name}/{newHash}");
        Assert.False(push.AnyFailed, string.Join("; ", push.Outcomes.Select(o => o.Reason)));
        return (name, oldHash, newHash, node);
    }

    // The prefix names itself (symlinks, paths in text and binaries): the same-length new hash in place of the old.
    private static void RenameHashInside(string prefix, string oldHash, string newHash)
    {
        var from = System.Text.Encoding.ASCII.GetBytes(oldHash);
        var to = System.Text.Encoding.ASCII.GetBytes(newHash);
        foreach (var entry in Directory.EnumerateFileSystemEntries(prefix, "*", SearchOption.AllDirectories))
        {
            if (new FileInfo(entry).LinkTarget is { } link)
            {
                if (link.Contains(oldHash, StringComparison.Ordinal))
                {
                    File.Delete(entry);
                    File.CreateSymbolicLink(entry, link.Replace(oldHash, newHash, StringComparison.Ordinal));
                }

                continue;
            }

            if (!File.Exists(entry))
            {
                continue;
            }

            var bytes = File.ReadAllBytes(entry);
            var changed = false;
            for (var at = bytes.AsSpan().IndexOf(from); at >= 0; at = bytes.AsSpan().IndexOf(from))
            {
                to.CopyTo(bytes, at);
                changed = true;
            }

            if (changed)
            {
                File.WriteAllBytes(entry, bytes);
            }
        }
    }

    private static JsonObject Installs(JsonObject db) => db["database"]!["installs"]!.AsObject();

    // The installed, non-external spec no other record depends on that has the most dependencies (greet in both
    // trees), found from the database alone.
    private static (string Hash, string Name) LeafMostRoot(JsonObject installs)
    {
        var dependedOn = installs.SelectMany(p => DependencyHashes(p.Value!.AsObject())).ToHashSet();
        var root = installs
            .Where(p => !dependedOn.Contains(p.Key) && (bool)p.Value!["installed"]!
                && p.Value["spec"]!["external"] is null)
            .OrderByDescending(p => DependencyHashes(p.Value!.AsObject()).Count)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .First();
        return (root.Key, (string)root.Value!["spec"]!["name"]!);
    }

    private static List<string> DependencyHashes(JsonObject record) =>
        record["spec"]!["dependencies"] is JsonArray deps
            ? deps.Select(d => (string)d!["hash"]!).Distinct(StringComparer.Ordinal).ToList() : [];

    private static void AssertSameShape(JsonObject spack, JsonObject depot)
    {
        Assert.Equal(spack.Select(p => p.Key), depot.Select(p => p.Key));
        var spackDb = spack["database"]!.AsObject();
        var depotDb = depot["database"]!.AsObject();
        Assert.Equal(spackDb.Select(p => p.Key), depotDb.Select(p => p.Key));
        Assert.Equal(JsonValueKind.String, depotDb["version"]!.GetValueKind());
        Assert.Equal((string)spackDb["version"]!, (string)depotDb["version"]!);
    }

    // Field by field, in Spack's order, each value equal as JSON (numbers, nulls, nested specs).
    private static void AssertSameFields(JsonObject expected, JsonObject actual, string hash, string? except)
    {
        Assert.Equal(expected.Select(p => p.Key), actual.Select(p => p.Key));
        foreach (var (field, value) in expected.Where(p => p.Key != except))
        {
            Assert.True(JsonNode.DeepEquals(value, actual[field]),
                $"{hash}.{field}: Spack wrote {value?.ToJsonString() ?? "null"}, now "
                + (actual[field]?.ToJsonString() ?? "null"));
        }
    }

    private static void AssertNoDuplicateKeys(byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        var seen = new Stack<HashSet<string>>();
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    seen.Push(new HashSet<string>(StringComparer.Ordinal));
                    break;
                case JsonTokenType.EndObject:
                    seen.Pop();
                    break;
                case JsonTokenType.PropertyName:
                    var name = reader.GetString()!;
                    Assert.True(seen.Peek().Add(name), $"key {name} appears twice in one object");
                    break;
            }
        }
    }
}
