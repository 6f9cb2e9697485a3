using System.Security.Cryptography;
using System.Text;
using Depot.Storage;
using Depot.Storage.Oci;

namespace Depot.Tests.Storage;

/// <summary>The store contract against a real registry (distribution 2.8); every test gets its own
/// repository.</summary>
public sealed class OciStoreTests(DockerRegistry registry) : StoreContractTests, IClassFixture<DockerRegistry>
{
    protected override IObjectStore CreateStore() =>
        new OciStore(OciReference.Parse(registry.Url("contract/r" + Guid.NewGuid().ToString("N")[..8])));

    private OciStore Oci => (OciStore)Store;

    [Fact]
    public async Task BlobKeysAreTheRegistrysContentAddressedBlobs()
    {
        var content = Encoding.UTF8.GetBytes("a tarball, say");
        var hex = Convert.ToHexStringLower(SHA256.HashData(content));
        var key = $"blobs/sha256/{hex[..2]}/{hex}";
        await Store.WriteAllBytesAsync(key, content, Token);
        Assert.Equal(content.Length, await Oci.Registry.HeadBlobAsync("sha256:" + hex, Token));
        Assert.Equal(content, await Store.ReadAllBytesAsync(key, cancellationToken: Token));

        var wrong = $"blobs/sha256/00/{new string('0', 64)}";
        var e = await Assert.ThrowsAsync<DepotException>(() => Store.WriteAllBytesAsync(wrong, content, Token));
        Assert.Contains("content addressed", e.Message, StringComparison.Ordinal);
        Assert.Empty(await Store.ListKeysAsync("blobs/", Token)
            .ToListAsync(Token)); // registries cannot enumerate blobs

        Assert.True(await Store.DeleteAsync(key, Token));
        Assert.Null(await Oci.Registry.HeadBlobAsync("sha256:" + hex, Token));
        Assert.False(await Store.DeleteAsync(key, Token));
    }

    [Fact]
    public async Task LargeBlobsGoUpInChunksAndAreCheckedOnTheWayBack()
    {
        using var chunked = new OciStore(OciReference.Parse(registry.Url("contract/chunked"
            + Guid.NewGuid().ToString("N")[..8])),
            new OciClientOptions(ChunkedUploadThreshold: 100_000, ChunkSize: 64 * 1024));
        var content = new byte[300_001];
        new Random(3).NextBytes(content);
        var digest = OciRegistryClient.Digest(content);
        await chunked.Registry.UploadBlobAsync(new MemoryStream(content), digest, content.Length, null, Token);
        Assert.Equal(content, await chunked.Registry.ReadBlobAsync(digest, content.Length, 1 << 20, Token));

        // A reader told another size refuses the blob before reading it, as the registry announces its own length.
        var e = await Assert.ThrowsAsync<InvalidContentException>(() => chunked.Registry.OpenBlobAsync(digest,
            content.Length + 1, Token));
        Assert.Contains("the registry announces 300001 bytes, the descriptor says 300002", e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task ObjectTagsDecodeBackToTheirKeysAndNeverLookLikeSpackImages()
    {
        foreach (var key in new[] { "keys/6640D90F8A1E84DD1142614C06BD5C3F48A372CC.pub", "a_b/c.d/e.spack", "ü/x y" })
        {
            var tag = OciStore.TagFor(key);
            Assert.Matches("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$", tag);
            Assert.False(tag.EndsWith(".spack", StringComparison.Ordinal));
            Assert.Equal(key, OciStore.KeyFor(tag));
        }

        Assert.Null(OciStore.KeyFor("greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug.spack"));
        Assert.Throws<DepotException>(() => OciStore.TagFor(new string('k', 200)));
    }

    [Fact]
    public async Task TagListsFollowLinkHeaders()
    {
        for (var i = 0; i < 5; i++)
        {
            await Store.WriteAllTextAsync($"page/{i}", "x", Token);
        }

        Assert.Equal(5, (await Store.ListKeysAsync("page/", Token).ToListAsync(Token)).Count);

        // distribution 2.8 sends no Link header for so few tags; registries that page (Docker Hub, GHCR) send relative
        // or absolute next links, which the client follows.
        var current = new Uri("https://ghcr.io/v2/org/cache/tags/list?n=1000");
        using var relative = new HttpResponseMessage();
        relative.Headers.TryAddWithoutValidation("Link", "</v2/org/cache/tags/list?last=b.spack&n=1000>; rel=\"next\"");
        Assert.Equal("https://ghcr.io/v2/org/cache/tags/list?last=b.spack&n=1000",
            OciRegistryClient.NextPage(relative, current)!.ToString());
        using var absolute = new HttpResponseMessage();
        absolute.Headers.TryAddWithoutValidation("Link", "<https://pages.example/v2/x?last=c>; rel=\"next\"");
        Assert.Equal("https://pages.example/v2/x?last=c", OciRegistryClient.NextPage(absolute, current)!.ToString());
        using var last = new HttpResponseMessage();
        Assert.Null(OciRegistryClient.NextPage(last, current));
    }

    [Theory]
    [InlineData("oci://ghcr.io/org/cache", "https", "ghcr.io", "org/cache")]
    [InlineData("oci+http://127.0.0.1:5000/Depot/Cache", "http", "127.0.0.1:5000", "depot/cache")]
    [InlineData("oci://localhost/cache", "https", "localhost", "cache")]
    [InlineData("oci://myorg/cache", "https", "index.docker.io", "myorg/cache")]
    [InlineData("oci://cache", "https", "index.docker.io", "library/cache")]
    public void MirrorUrlsAreReadLikeDockerReferences(string url, string scheme, string host, string repository)
    {
        var reference = OciReference.Parse(url);
        Assert.Equal((scheme, host, repository), (reference.Scheme, reference.Registry, reference.Repository));
    }

    [Theory]
    [InlineData("oci://ghcr.io/org/cache:latest")]
    [InlineData("oci://ghcr.io/")]
    [InlineData("oci://ghcr.io/UPPER$/x")]
    public void BadMirrorUrlsAreRefusedInOneLine(string url)
    {
        var e = Assert.Throws<DepotException>(() => OciReference.Parse(url));
        Assert.Contains(url, e.Message, StringComparison.Ordinal);
    }
}
