using Depot.Layout.Oci;
using Depot.Storage.Oci;
using Depot.Tests.Operations;
using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// <c>depot push</c>'s registry options through the CLI: <c>--base-image</c> puts each spec image on the base's layers,
/// <c>--tag</c> adds one image holding every pushed spec; without them neither happens.
/// </summary>
public sealed class OciPushOptionCliTests(DockerRegistry registry) : CliTestBase, IClassFixture<DockerRegistry>
{
    private const string Greet = "greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug.spack";
    private static readonly string Tree = TestData.Path("spack-1.2/install-tree");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BaseImageAndTagShapeTheImagesPushed()
    {
        using var baseRepo = new OciStore(OciReference.Parse(registry.Url("cli-base/img"
            + Guid.NewGuid().ToString("N")[..6])));
        var (baseLayer, _) = await OciBaseImageTests.PushBaseAsync(baseRepo.Registry, "1", docker: false);

        var plainUrl = registry.Url("cli-push/plain" + Guid.NewGuid().ToString("N")[..6]);
        var (code, output, error) = await RunAsync("push", plainUrl, "greet", "--install-tree", Tree, "-u");
        Assert.True(code == 0, error + output);
        Assert.DoesNotContain("tagged", output, StringComparison.Ordinal);
        using var plain = new OciStore(OciReference.Parse(plainUrl));
        var plainImage = await new BuildCacheOci(plain).ReadImageAsync(Greet, Token);
        Assert.Equal(3, plainImage.Manifest.Layers.Count); // gcc-runtime, libgreet, greet
        Assert.DoesNotContain(plainImage.Manifest.Layers, l => l.Digest == baseLayer);

        var url = registry.Url("cli-push/based" + Guid.NewGuid().ToString("N")[..6]);
        (code, output, error) = await RunAsync("push", url, "greet", "--install-tree", Tree, "-u",
            "--base-image", baseRepo.Root + ":1", "--tag", "everything");
        Assert.True(code == 0, error + output);
        Assert.Contains(":everything: every pushed spec and its dependencies in one image", output,
            StringComparison.Ordinal);

        using var store = new OciStore(OciReference.Parse(url));
        var image = await new BuildCacheOci(store).ReadImageAsync(Greet, Token);
        Assert.Equal(4, image.Manifest.Layers.Count); // base, gcc-runtime, libgreet, greet
        Assert.Equal(baseLayer, image.Manifest.Layers[0].Digest);
        var tagged = await store.Registry.GetManifestAsync("everything", Token);
        Assert.NotNull(tagged);
        var all = OciImageManifest.Parse(tagged.Bytes, "everything");
        Assert.Equal(baseLayer, all.Layers[0].Digest);
        Assert.Equal(image.Manifest.Layers.Select(l => l.Digest).ToHashSet(),
            all.Layers.Select(l => l.Digest).ToHashSet()); // greet's closure is every pushed spec
    }
}
