using System.Text.Json;

namespace Depot.Tests.Cli;

/// <summary><c>depot catalog MIRROR --out DIR</c> on the real Spack 1.2 mirrors: the static site and its summary.
/// </summary>
public sealed class CatalogCliTests : CliTestBase
{
    [Fact]
    public async Task WritesTheStaticCatalogOfASignedMirrorAndSummarizesItAsJson()
    {
        var mirror = TestData.Path(TestData.V3Signed);
        var output = Scratch.Combine("site");

        var (code, stdout, stderr) = await RunAsync("catalog", mirror, "--out", output, "--name", "demo",
            "--mirror-url", "https://cache.example/demo/", "--json");

        Assert.True(code == 0, stderr);
        using var summary = JsonDocument.Parse(stdout);
        var root = summary.RootElement;
        Assert.Equal(output, root.GetProperty("out").GetString());
        Assert.Equal("demo", root.GetProperty("name").GetString());
        var specs = root.GetProperty("specs").GetInt32();
        Assert.True(specs >= 2, stdout);
        Assert.Equal(Directory.EnumerateFiles(output, "*.html", SearchOption.AllDirectories).Count(),
            root.GetProperty("pages").GetInt32());
        Assert.True(root.GetProperty("bytes").GetInt64() > 10_000);
        Assert.True(root.GetProperty("seconds").GetDouble() >= 0);
        var specPages = Directory.GetDirectories(Path.Combine(output, "demo", "spec"));
        Assert.Equal(specs, specPages.Length);

        // The fixture's key is not in this home's keyring: signed, but not trusted here.
        var page = await File.ReadAllTextAsync(Path.Combine(specPages[0], "index.html"),
            TestContext.Current.CancellationToken);
        Assert.Contains("data-state=\"untrusted\"", page, StringComparison.Ordinal);
        Assert.Contains("spack mirror add", page, StringComparison.Ordinal);
        Assert.Contains("https://cache.example/demo/", page, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "demo", "search.json")));
        Assert.True(File.Exists(Path.Combine(output, "_depot", "assets", "catalog.js")));
    }

    [Fact]
    public async Task RefusesAFolderThatIsNotAnExportInOneLine()
    {
        var output = Scratch.Combine("notes");
        Directory.CreateDirectory(output);
        await File.WriteAllTextAsync(Path.Combine(output, "keep.txt"), "mine", TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await RunAsync("catalog", TestData.Path(TestData.V3Unsigned), "--out", output);

        Assert.Equal(Depot.Cli.ExitCodes.Conflict, code);
        Assert.Equal("", stdout);
        Assert.Equal($"depot: error: {output}: not empty and not a previous catalog export (no .depot-catalog); give a "
            + "new or empty folder\n", stderr);
        Assert.Equal(["keep.txt"], Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName));
    }

    [Fact]
    public async Task NamesTheCacheAsDepotServeDoesAndPrintsWhereToOpenIt()
    {
        var output = Scratch.Combine("site");

        var (code, stdout, stderr) = await RunAsync("catalog", TestData.Path(TestData.V3Unsigned), "--out", output);

        Assert.True(code == 0, stderr);
        Assert.StartsWith("catalog of mirror-unsigned: ", stdout, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(output, "index.html"), stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "mirror-unsigned", "index.html")));
    }
}
