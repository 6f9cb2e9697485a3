using System.Text;
using Depot.Cli;
using Depot.Configuration;
using Depot.Layout;
using Depot.Operations;
using Depot.Serving;
using Depot.Signing;
using Depot.Specs;

namespace Depot.Tests.Server;

/// <summary>
/// Pull-through from another Depot server over HTTP: Depot's own install through the pull-through cache fetches and
/// verifies from the upstream the first time and is served locally the second; a cache with <c>sign_with</c> serves
/// entries signed by the server's key only, and publishes only that key.
/// </summary>
public class PullThroughInstallTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task InstallThroughThePullThroughCacheFetchesOnceThenServesLocally()
    {
        using var upstreamDir = TestData.InstallableV3(TestData.V3Signed);
        await using var upstream = await PullThroughHost.StartAsync(
            new ServedCacheConfig("up", upstreamDir.Path) { Public = true, ReadOnly = true }, recordServed: true);
        using var local = new TempDir();
        await using var pull = await PullThroughHost.StartAsync(new ServedCacheConfig("pull", local.Path)
        {
            Public = true,
            Upstreams = [new UpstreamConfig(upstream.Url)],
        });
        using var root = new TempDir();

        var first = await InstallAsync(pull.Url, root.Combine("one"));
        Assert.False(first.AnyFailed, string.Join("; ", first.Outcomes.Select(o => o.Reason)));
        var greet = first.Outcomes.Single(o => o.Name == "greet");
        Assert.Equal(InstallStatus.Installed, greet.Status);
        Assert.Equal("Hello, world.", Operations.InstallOperationTests.Run(Path.Combine(greet.Prefix!, "bin/greet")));
        var manifestReads = ManifestReads(upstream, upstreamDir.Path);
        Assert.True(manifestReads >= 3, $"{manifestReads} manifests read upstream");
        Assert.Equal(1, upstream.Reads(upstreamDir.Path, PullThroughTests.GreetManifest));
        Assert.Equal(1, upstream.Reads(upstreamDir.Path, PullThroughTests.GreetTarball));
        Assert.True(pull.Pull.Counts.EntriesFetched >= 3, $"{pull.Pull.Counts}");

        var second = await InstallAsync(pull.Url, root.Combine("two"));
        Assert.False(second.AnyFailed, string.Join("; ", second.Outcomes.Select(o => o.Reason)));
        Assert.Equal(InstallStatus.Installed, second.Outcomes.Single(o => o.Name == "greet").Status);
        Assert.Equal(1, upstream.Reads(upstreamDir.Path, PullThroughTests.GreetManifest));
        Assert.Equal(1, upstream.Reads(upstreamDir.Path, PullThroughTests.GreetTarball));
        Assert.Equal(manifestReads, ManifestReads(upstream, upstreamDir.Path));
    }

    [Fact]
    public async Task WithSignWithEntriesAreSignedByTheServerKeyAndOnlyItIsPublished()
    {
        using var upstreamDir = TestData.Copy(TestData.V3Signed);
        using var local = new TempDir();
        using var keyHome = new TempDir();
        var maker = Keyring.Open(new DepotHome(keyHome.Path).KeysFolder);
        var server = maker.Create("Depot Server", "server@example.invalid", null, null, KeyAlgorithm.Ed25519)
            .Fingerprint;
        await using var pull = await PullThroughHost.StartAsync(new ServedCacheConfig("pull", local.Path)
        {
            Public = true,
            Upstreams = [new UpstreamConfig(upstreamDir.Path)],
            SignWith = server,
        }, keys: keyring => keyring.Import(maker.ExportSecret(server), "server.asc", "test"));
        var keyring = Keyring.Open(new DepotHome(pull.HomePath).KeysFolder);
        var serverRing = OpenPgpArmor.ReadKeyRings(keyring.ExportPublic(server), "server").Public;

        var manifest = Encoding.UTF8.GetString(await pull.Http.GetByteArrayAsync(PullThroughTests.GreetManifest,
            Token));

        var verified = new SignatureVerifier(serverRing).Verify(manifest, "served manifest");
        Assert.Equal(server, verified.SignerFingerprint);
        var fixtureOnly = new SignatureVerifier(OpenPgpArmor.ReadKeyRings(
            File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")), "fixture").Public);
        Assert.Throws<SignatureException>(() => fixtureOnly.Verify(manifest, "served manifest"));
        var published = await new BuildCacheV3(new Depot.Storage.LocalDirectoryStore(local.Path))
            .ReadPublishedKeysAsync(Token);
        Assert.Equal([server], published.Select(k => k.Fingerprint));
    }

    private static int ManifestReads(PullThroughHost host, string mirror) =>
        host.Recorded[mirror].Opened.Count(k =>
            k.StartsWith(BuildCacheV3.SpecManifestPrefix, StringComparison.Ordinal));

    private static async Task<InstallResult> InstallAsync(string url, string root)
    {
        using var home = new TempDir();
        Keyring.Open(new DepotHome(home.Path).KeysFolder).Import(
            File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")), "public.asc", "test");
        var engine = new EngineContext(new DepotHome(home.Path), ShippedStores.Providers);
        return await InstallOperation.RunAsync([engine.OpenForRead(url)], [SpecQuery.Parse("greet")],
            new InstallOptions(new PlainRootTarget(root)), null, Token);
    }
}
