using Depot.Tests.Cli;

namespace Depot.Tests.Catalog.Browser;

/// <summary>
/// The fixture caches exported with <c>depot catalog</c> (run in-process, as a user would run it) into one folder per
/// export, all served by one <see cref="StaticFolderServer"/> under a sub-path each (<c>/trusted-site/</c>, …), as a
/// site published below a repository path would be. <c>trusted</c> is exported by a home whose keyring holds the
/// fixture key, <c>untrusted</c> (the same signed cache) by a home with no key, <c>unsigned</c> from the unsigned
/// cache.
/// </summary>
public sealed class StaticExportSites : IAsyncLifetime
{
    /// <summary>The URL the exports put in their install commands.</summary>
    public const string MirrorUrlBase = "https://cache.example.invalid/";

    private readonly TempDir root = new();
    private readonly List<TempDir> scratch = [];
    private StaticFolderServer? server;

    public FixtureSpecs Signed { get; private set; } = null!;

    public FixtureSpecs Unsigned { get; private set; } = null!;

    /// <summary>The export's own root (its <c>index.html</c>, the caches listed) for <paramref name="cache"/>.
    /// </summary>
    public Uri SiteUrl(string cache) =>
        new((server ?? throw new InvalidOperationException("not started")).BaseUrl, cache + "-site/");

    /// <summary>The exported cache page: <c>http://127.0.0.1:PORT/CACHE-site/CACHE/</c>.</summary>
    public Uri CacheUrl(string cache) => new(SiteUrl(cache), cache + "/");

    public async ValueTask InitializeAsync()
    {
        var cancel = TestContext.Current.CancellationToken;
        var signed = New();
        TestData.CopyTree(TestData.Path(TestData.V3Signed), signed.Path);
        var unsigned = New();
        TestData.CopyTree(TestData.Path(TestData.V3Unsigned), unsigned.Path);
        Signed = await FixtureSpecs.ReadAsync(signed.Path, cancel);
        Unsigned = await FixtureSpecs.ReadAsync(unsigned.Path, cancel);

        var keyHome = New();
        TestData.FixtureKeyring(keyHome.Path);
        var bareHome = New();
        await ExportAsync(keyHome.Path, signed.Path, "trusted");
        await ExportAsync(bareHome.Path, signed.Path, "untrusted");
        await ExportAsync(bareHome.Path, unsigned.Path, "unsigned");
        server = await StaticFolderServer.StartAsync(root.Path, cancel);
    }

    private async Task ExportAsync(string home, string mirror, string name)
    {
        var output = Path.Combine(root.Path, name + "-site");
        var (code, stdout, stderr) = await CliRun.RunAsync(home, "catalog", mirror, "--out", output, "--name", name,
            "--mirror-url", MirrorUrlBase + name);
        if (code != 0 || !File.Exists(Path.Combine(output, name, "index.html")))
        {
            throw new InvalidOperationException($"depot catalog {mirror} --out {output} --name {name} exited {code}"
                + $" (wrote {name}/index.html: {File.Exists(Path.Combine(output, name, "index.html"))}):\n"
                + stdout + stderr);
        }
    }

    private TempDir New()
    {
        var dir = new TempDir();
        scratch.Add(dir);
        return dir;
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        foreach (var dir in scratch)
        {
            dir.Dispose();
        }

        root.Dispose();
    }
}
