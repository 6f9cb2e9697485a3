using System.Net;
using System.Text;
using System.Text.Json;
using Depot.Layout;
using Depot.Serving;

namespace Depot.Tests.Server;

/// <summary>
/// Pull-through caches on a real server: a miss is fetched from an upstream (a directory copy of the signed Spack 1.2
/// fixture mirror), verified and stored; the second request is served locally; tampered upstream entries are refused
/// with nothing stored; a dead upstream is passed over.
/// </summary>
public class PullThroughTests
{
    internal const string GreetManifest =
        "v3/manifests/spec/greet/greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug.spec.manifest.json";

    internal const string GreetTarball =
        "blobs/sha256/2c/2c73d3a0d6bda497c14e96be4f083accce60c521ce2aa34ed810e69bf6982d25";

    internal const string GreetSpecBlob =
        "blobs/sha256/c3/c3607bc9ed60f5ed4e48a754a3bd3cab96a9d3112ca6f33c829808cfdc49d565";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ServedCacheConfig Cache(string local, params string[] upstreams) =>
        new("pull", local) { Public = true, Upstreams = upstreams.Select(u => new UpstreamConfig(u)).ToList() };

    [Fact]
    public async Task FirstGetFetchesAndVerifiesTheSecondIsServedLocally()
    {
        using var upstream = TestData.Copy(TestData.V3Signed);
        using var local = new TempDir();
        await using var host = await PullThroughHost.StartAsync(Cache(local.Path, upstream.Path));

        var first = await host.Http.GetByteArrayAsync(GreetManifest, Token);
        Assert.Equal(File.ReadAllBytes(Path.Combine(upstream.Path, GreetManifest)), first);
        Assert.Equal(1, host.Reads(upstream.Path, GreetManifest));
        Assert.Equal(1, host.Reads(upstream.Path, GreetTarball));
        Assert.True(File.Exists(local.Combine(GreetManifest)));
        Assert.True(File.Exists(local.Combine(GreetTarball)));
        Assert.True(File.Exists(local.Combine(GreetSpecBlob)));

        var second = await host.Http.GetByteArrayAsync(GreetManifest, Token);
        var tarball = await host.Http.GetByteArrayAsync(GreetTarball, Token);
        Assert.Equal(first, second);
        Assert.Equal(File.ReadAllBytes(Path.Combine(upstream.Path, GreetTarball)), tarball);
        Assert.Equal(1, host.Reads(upstream.Path, GreetManifest));
        Assert.Equal(1, host.Reads(upstream.Path, GreetTarball));
        Assert.Equal(1, host.Pull.Counts.EntriesFetched);

        // The store's own index now lists what it holds.
        var own = await new BuildCacheV3(new Depot.Storage.LocalDirectoryStore(local.Path)).ReadIndexAsync(Token);
        Assert.Contains(own!.CachedSpecs, s => s.Name == "greet");
    }

    [Fact]
    public async Task ConcurrentMissesOfOneEntryFetchItOnce()
    {
        using var upstream = TestData.Copy(TestData.V3Signed);
        using var local = new TempDir();
        await using var host = await PullThroughHost.StartAsync(Cache(local.Path, upstream.Path));

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => host.Http.GetAsync(GreetManifest,
            Token)));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(1, host.Reads(upstream.Path, GreetManifest));
        Assert.Equal(1, host.Reads(upstream.Path, GreetTarball));
        Assert.Equal(1, host.Pull.Counts.EntriesFetched);
    }

    [Fact]
    public async Task TamperedUpstreamTarballIsRefusedAndNothingIsStored()
    {
        using var upstream = TestData.Copy(TestData.V3Signed);
        var tarball = Path.Combine(upstream.Path, GreetTarball);
        var bytes = File.ReadAllBytes(tarball);
        bytes[^20] ^= 0xff;
        File.WriteAllBytes(tarball, bytes);
        using var local = new TempDir();
        await using var host = await PullThroughHost.StartAsync(Cache(local.Path, upstream.Path));

        var answer = await host.Http.GetAsync(GreetManifest, Token);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.StatusCode);
        var error = await ErrorOf(answer);
        Assert.Contains("refused " + GreetManifest, error, StringComparison.Ordinal);
        Assert.Contains("checksum mismatch", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
        Assert.False(File.Exists(local.Combine(GreetManifest)));
        Assert.False(File.Exists(local.Combine(GreetTarball)));
        Assert.False(File.Exists(local.Combine(GreetSpecBlob)));
        Assert.Equal(1, host.Pull.Counts.Refused);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync(GreetTarball, Token)).StatusCode);
    }

    [Fact]
    public async Task UpstreamManifestWithABrokenSignatureIsRefusedAndNothingIsStored()
    {
        using var upstream = TestData.Copy(TestData.V3Signed);
        var manifest = Path.Combine(upstream.Path, GreetManifest);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"contentLength\":7831",
            "\"contentLength\":7832", StringComparison.Ordinal));
        using var local = new TempDir();
        await using var host = await PullThroughHost.StartAsync(Cache(local.Path, upstream.Path));

        var answer = await host.Http.GetAsync(GreetManifest, Token);

        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        var error = await ErrorOf(answer);
        Assert.Contains("upstream " + upstream.Path, error, StringComparison.Ordinal);
        Assert.Equal("trust", await KindOf(answer));
        Assert.False(File.Exists(local.Combine(GreetManifest)));
        Assert.False(File.Exists(local.Combine(GreetTarball)));
        Assert.Equal(0, host.Reads(upstream.Path, GreetTarball));
    }

    [Fact]
    public async Task AnUpstreamThatIsDownIsPassedOverAndAllDownIsABadGateway()
    {
        using var upstream = TestData.Copy(TestData.V3Signed);
        using var local = new TempDir();
        const string dead = "http://127.0.0.1:9/nothing";
        await using (var host = await PullThroughHost.StartAsync(Cache(local.Path, dead, upstream.Path)))
        {
            Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync(GreetManifest, Token)).StatusCode);
            Assert.True(host.Pull.Counts.UpstreamFailures >= 1);
            Assert.Equal(1, host.Pull.Counts.EntriesFetched);
        }

        using var other = new TempDir();
        await using var allDown = await PullThroughHost.StartAsync(Cache(other.Path, dead, "http://127.0.0.1:9/x"));
        var answer = await allDown.Http.GetAsync(GreetManifest, Token);
        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        var error = await ErrorOf(answer);
        Assert.Contains("no upstream answered", error, StringComparison.Ordinal);
        Assert.Contains(dead, error, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:9/x", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysThatAreNoVerifiedEntrysBlobsAreNotFetched()
    {
        using var upstream = TestData.Copy(TestData.V3Signed);
        using var local = new TempDir();
        await using var host = await PullThroughHost.StartAsync(Cache(local.Path, upstream.Path));

        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync(GreetTarball, Token)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync("v3/manifests/spec/greet/greet-1.0.0-"
            + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.spec.manifest.json", Token)).StatusCode);
        Assert.Equal(0, host.Reads(upstream.Path, GreetTarball));
        Assert.Equal(1, host.Pull.Counts.Misses);
    }

    [Fact]
    public async Task TheIndexListsTheUpstreamsSpecsAndTheKeysArePublished()
    {
        using var upstream = TestData.Copy(TestData.V3Signed);
        using var local = new TempDir();
        await using var host = await PullThroughHost.StartAsync(Cache(local.Path, upstream.Path));

        var index = await ReadServedIndexAsync(host.Http);
        var upstreamIndex = await new BuildCacheV3(new Depot.Storage.LocalDirectoryStore(upstream.Path))
            .ReadIndexAsync(Token);
        Assert.Equal(upstreamIndex!.CachedSpecs.Select(s => s.Hash).Order(),
            index.CachedSpecs.Select(s => s.Hash).Order());
        Assert.Contains(index.CachedSpecs, s => s.Name == "greet");

        var keys = await host.Http.GetStringAsync(BuildCacheV3.KeyIndexManifestKey, Token);
        Assert.Contains("mediaType", keys, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("v3/manifests/key/"
            + "6640D90F8A1E84DD1142614C06BD5C3F48A372CC.key.manifest.json", Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync(BuildCacheV3.LayoutKey, Token)).StatusCode);

        // Served again within the TTL: not composed again.
        await ReadServedIndexAsync(host.Http);
        Assert.Equal(1, host.Pull.Counts.IndexCompositions);
    }

    internal static async Task<BuildCacheIndex> ReadServedIndexAsync(HttpClient http)
    {
        var manifest = BuildCacheManifest.Parse(await http.GetByteArrayAsync(BuildCacheV3.IndexManifestKey, Token),
            "index manifest");
        var record = manifest.Find(MediaTypes.IndexPrefix, prefix: true)!;
        return BuildCacheIndex.Parse(await http.GetByteArrayAsync(record.BlobKey, Token), record.BlobKey);
    }

    internal static async Task<string> ErrorOf(HttpResponseMessage answer)
    {
        using var json = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(Token));
        return json.RootElement.GetProperty("error").GetString()!;
    }

    private static async Task<string> KindOf(HttpResponseMessage answer)
    {
        using var json = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(Token));
        return json.RootElement.GetProperty("kind").GetString()!;
    }

    internal static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
