using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.InstallTree;
using Depot.Specs;

namespace Depot.Tests.InstallTree;

/// <summary>
/// The database writer never leaves one hash twice, nor a record under another spec's hash: it refuses a database
/// that already does, a dependency that resolves to another hash, and a record whose DAG hash does not recompute.
/// </summary>
public sealed class InstallDatabaseWriterTests : IDisposable
{
    private const string GreetData = "peahnwn7aa2lc5t6iese4dp7o7jjbnwu";
    private const string Greet = "ilccysmlleizqaxfvvqsb6selpnnszug";
    private readonly TempDir tree = TestData.Copy("spack-1.2/install-tree");
    private readonly InstallDatabase source;

    public InstallDatabaseWriterTests() =>
        source = InstallDatabase.ReadAsync(TestData.Path("spack-1.2/install-tree")).GetAwaiter().GetResult();

    public void Dispose() => tree.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string IndexPath => InstallDatabase.IndexPath(tree.Path);

    [Theory]
    [InlineData("duplicate-key", "record " + GreetData + " appears twice")]
    [InlineData("key-not-hash", "record " + GreetData + " holds a spec with hash " + Greet)]
    public async Task ADatabaseWithADuplicateOrMisfiledRecordIsLeftAlone(string damage, string message)
    {
        var text = await File.ReadAllTextAsync(IndexPath, Token);
        var greetData = JsonNode.Parse(text)!["database"]!["installs"]![GreetData]!.ToJsonString();
        var greet = JsonNode.Parse(text)!["database"]!["installs"]![Greet]!.ToJsonString();
        // JSON objects with a repeated key can only be written by hand.
        var damaged = damage == "duplicate-key"
            ? text.Replace("\"installs\":{", $"\"installs\":{{\"{GreetData}\":{greetData},", StringComparison.Ordinal)
            : text.Replace($"\"{GreetData}\":{greetData}", $"\"{GreetData}\":{greet}", StringComparison.Ordinal);
        Assert.NotEqual(text, damaged);
        await File.WriteAllTextAsync(IndexPath, damaged, Token);

        var e = await Assert.ThrowsAsync<DepotException>(() => AddGreetAsync(source.Find));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.StartsWith(IndexPath + ": ", e.Message, StringComparison.Ordinal);
        Assert.Equal(damaged, await File.ReadAllTextAsync(IndexPath, Token));
    }

    [Fact]
    public async Task ADependencyResolvedToAnotherSpecIsNotRecorded()
    {
        // An empty database: greet's dependencies must be added, and gcc-runtime's edge resolves to greet-data.
        File.Delete(IndexPath);
        var e = await Assert.ThrowsAsync<DepotException>(() => AddGreetAsync(hash =>
            hash == "vkw5xvdpe5yect3sehzv5inhyvrgavno" ? source.Find(GreetData)!.Spec : source.Find(hash)?.Spec));
        Assert.Contains("its dependency gcc-runtime/vkw5xvd resolved to a spec with hash " + GreetData, e.Message,
            StringComparison.Ordinal);
        Assert.False(File.Exists(IndexPath));
    }

    [Fact]
    public async Task ARecordWhoseHashDoesNotRecomputeIsRefused()
    {
        File.Delete(IndexPath);
        var node = JsonNode.Parse(source.Find(GreetData)!.Spec.Json.GetRawText())!;
        node["version"] = "6.6.6";
        var forged = SpecNode.Parse(JsonDocument.Parse(node.ToJsonString()).RootElement, "forged");
        var e = await Assert.ThrowsAsync<DepotException>(() =>
            InstallDatabaseWriter.AddAsync(tree.Path, 8, [new NewInstallRecord(forged, "/x", true)], _ => null,
                cancellationToken: Token));
        Assert.Contains("refusing to record greet-data/peahnwn: its DAG hash recomputes to", e.Message,
            StringComparison.Ordinal);
        Assert.False(File.Exists(IndexPath));
    }

    [Fact]
    public async Task AddingToASoundDatabaseWritesEachHashOnce()
    {
        File.Delete(IndexPath);
        await AddGreetAsync(source.Find);
        await InstallDatabaseWriter.AddAsync(tree.Path, 8,
            [new NewInstallRecord(source.Find(GreetData)!.Spec, "/p/greet-data", true)], h => source.Find(h)?.Spec,
            cancellationToken: Token);
        using var doc = JsonDocument.Parse(await File.ReadAllBytesAsync(IndexPath, Token));
        var keys = doc.RootElement.GetProperty("database").GetProperty("installs").EnumerateObject().Select(p => p.Name)
            .ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Contains(GreetData, keys);
        Assert.Contains(Greet, keys);
    }

    private Task AddGreetAsync(Func<string, InstallRecord?> find) => AddGreetAsync(hash => find(hash)?.Spec);

    private Task AddGreetAsync(Func<string, SpecNode?> resolve) =>
        InstallDatabaseWriter.AddAsync(tree.Path, 8, [new NewInstallRecord(source.Find(Greet)!.Spec, "/p/greet", true)],
            resolve, cancellationToken: Token);
}
