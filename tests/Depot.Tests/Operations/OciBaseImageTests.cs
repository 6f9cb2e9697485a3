using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Depot.Layout;
using Depot.Layout.Oci;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage.Oci;
using Depot.Tests.Storage;

namespace Depot.Tests.Operations;

/// <summary><c>depot push --base-image</c>: spec images built on a runnable base image, OCI or Docker format, as
/// Spack's.</summary>
public sealed class OciBaseImageTests(DockerRegistry registry) : IClassFixture<DockerRegistry>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private const string Greet = "greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug.spack";

    /// <summary>Pushes a one-layer base image (an os-release file; Env, Cmd, history) and returns its layer digest and
    /// diff id.</summary>
    internal static async Task<(string Layer, string DiffId)> PushBaseAsync(OciRegistryClient client, string tag,
        bool docker)
    {
        using var tar = new MemoryStream();
        await using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "etc/os-release")
            {
                DataStream = new MemoryStream("ID=depot-base\n"u8.ToArray()),
            };
            await writer.WriteEntryAsync(entry, Token);
        }

        var diffId = OciRegistryClient.Digest(tar.ToArray());
        using var gz = new MemoryStream();
        await using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(tar.ToArray(), Token);
        }

        var layer = await client.PutBlobIfMissingAsync(gz.ToArray(), Token);
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","config":"""
            + """{"Env":["PATH=/usr/local/bin:/usr/bin","LANG=C.UTF-8"],"Cmd":["/bin/sh"]},"rootfs":"""
            + $$$"""{"type":"layers","diff_ids":["{{{diffId}}}"]},"history":[{"created_by":"depot test"}]}""");
        var configDigest = await client.PutBlobIfMissingAsync(config, Token);
        var manifest = new OciImageManifest(docker ? OciMediaTypes.DockerManifest : OciMediaTypes.ImageManifest,
            new OciDescriptor(docker ? OciMediaTypes.DockerConfig : OciMediaTypes.ImageConfig, configDigest,
                config.Length),
            [new OciDescriptor(docker ? OciMediaTypes.DockerLayer : OciMediaTypes.Layer, layer, gz.Length)]);
        await client.PutManifestAsync(tag, manifest.ToJsonBytes(), Token);
        return (layer, diffId);
    }

    [Fact]
    public async Task SpecImagesSitOnTheBaseImageAndStillInstall()
    {
        using var baseRepo = new OciStore(OciReference.Parse(registry.Url("base/img"
            + Guid.NewGuid().ToString("N")[..6])));
        var (layer, diffId) = await PushBaseAsync(baseRepo.Registry, "1", docker: false);
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);

        using var store = new OciStore(OciReference.Parse(registry.Url("based/r" + Guid.NewGuid().ToString("N")[..6])));
        var result = await OciBuildCacheTests.PushSignedAsync(store, keyring.SigningKey(),
            new PushOptions(BaseImage: baseRepo.Root + ":1"));
        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));

        var image = await new BuildCacheOci(store).ReadImageAsync(Greet, Token);
        Assert.Equal(OciMediaTypes.ImageManifest, image.Manifest.MediaType);
        Assert.Equal(4, image.Manifest.Layers.Count); // base, gcc-runtime, libgreet, greet
        Assert.Equal(layer, image.Manifest.Layers[0].Digest);
        Assert.NotNull(await store.Registry.HeadBlobAsync(layer, Token)); // mounted into the cache's repository
        using var config = JsonDocument.Parse(image.Config);
        var root = config.RootElement;
        Assert.Equal(["architecture", "os", "config", "rootfs", "history", "spec", "buildcache_layout_version",
            "binary_cache_checksum", "archive_size",
            "archive_timestamp", "archive_compression"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(diffId, root.GetProperty("rootfs").GetProperty("diff_ids")[0].GetString());
        Assert.Equal(4, root.GetProperty("rootfs").GetProperty("diff_ids").GetArrayLength());
        Assert.Equal("/bin/sh", root.GetProperty("config").GetProperty("Cmd")[0].GetString());
        var env = root.GetProperty("config").GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Matches("^PATH=/.*/greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug/bin:/usr/local/bin:/usr/bin$", env[0]);
        Assert.Contains("LANG=C.UTF-8", env);
        Assert.Contains(env, e => e.StartsWith("CMAKE_PREFIX_PATH=", StringComparison.Ordinal));

        // Depot still reads them as build cache entries: signatures verify, and greet installs from the last layer.
        var verify = await VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring, "oci")),
            new VerifyOptions([]), null, Token);
        Assert.Equal(5, verify.Signed);
        using var target = new TempDir();
        var installed = await InstallOperationTests.InstallAsync(Mirror.Of(store, TrustPolicy.None("oci"),
            name: "oci"), new PlainRootTarget(target.Path), "greet");
        Assert.False(installed.AnyFailed, string.Join("; ", installed.Outcomes.Select(o => o.Reason)));
        Assert.Equal("Hello, world.",
            InstallOperationTests.Run(Path.Combine(installed.Outcomes.Single(o => o.Name == "greet").Prefix!,
                "bin/greet")));
    }

    [Fact]
    public async Task ADockerFormatBaseFromAnotherRegistryKeepsDockerMediaTypes()
    {
        await using var other = new DockerRegistry();
        await other.InitializeAsync();
        using var baseRepo = new OciStore(OciReference.Parse(other.Url("base/docker")));
        var (layer, _) = await PushBaseAsync(baseRepo.Registry, "latest", docker: true);

        using var store = new OciStore(OciReference.Parse(registry.Url("based/d" + Guid.NewGuid().ToString("N")[..6])));
        var result = await OciBuildCacheTests.PushAsync(store, new PushOptions(BaseImage: baseRepo.Root), "greet-data");
        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));

        var image = await new BuildCacheOci(store)
            .ReadImageAsync("greet-data-1.0.0-peahnwn7aa2lc5t6iese4dp7o7jjbnwu.spack", Token);
        Assert.Equal(OciMediaTypes.DockerManifest, image.Manifest.MediaType);
        Assert.Equal(OciMediaTypes.DockerConfig, image.Manifest.Config.MediaType);
        Assert.All(image.Manifest.Layers, l => Assert.Equal(OciMediaTypes.DockerLayer, l.MediaType));
        Assert.Null(image.Manifest.Annotations); // Docker manifests carry none
        Assert.Equal(layer, image.Manifest.Layers[0].Digest);
        Assert.NotNull(await store.Registry.HeadBlobAsync(layer, Token)); // copied across registries
    }

    [Fact]
    public async Task AMissingBaseImageFailsThePushWithItsName()
    {
        using var store = new OciStore(OciReference.Parse(registry.Url("based/m" + Guid.NewGuid().ToString("N")[..6])));
        var result = await OciBuildCacheTests.PushAsync(store,
            new PushOptions(BaseImage: registry.Url("base/none") + ":9"), "greet-data");
        var outcome = Assert.Single(result.Outcomes, o => o.Name == "greet-data");
        Assert.Equal(PushStatus.Failed, outcome.Status);
        Assert.Contains("base image", outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TagWritesOneRunnableImageOfEveryPushedSpec()
    {
        using var store = new OciStore(OciReference.Parse(registry.Url("tagged/r"
            + Guid.NewGuid().ToString("N")[..6])));
        var result = await OciBuildCacheTests.PushAsync(store, new PushOptions(Tag: "toolbox-1"));
        Assert.Equal("toolbox-1", result.TaggedImage);

        var found = (await store.Registry.GetManifestAsync("toolbox-1", Token))!;
        var manifest = OciImageManifest.Parse(found.Bytes, "toolbox-1");
        Assert.Null(manifest.Annotations);
        Assert.Equal(5,
            manifest.Layers.Count); // roots greet, greet-data, compiler-wrapper; libgreet and gcc-runtime below greet
        using var config = JsonDocument.Parse(await store.Registry.ReadBlobAsync(manifest.Config.Digest,
            manifest.Config.Size, 1 << 20, Token));
        Assert.False(config.RootElement.TryGetProperty("spec", out _)); // a runnable image, not a cache entry
        Assert.Equal(5, config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").GetArrayLength());
        Assert.Contains("greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug/bin",
            config.RootElement.GetProperty("config").GetProperty("Env")[0].GetString(), StringComparison.Ordinal);

        // Not an entry: listing and the index see the five specs only.
        var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Equal(5, listed.Rows.Count);
        var e = await Assert.ThrowsAsync<DepotException>(() => OciBuildCacheTests.PushAsync(store,
            new PushOptions(Tag: "bad.spack")));
        Assert.Contains("image tag 'bad.spack': not valid", e.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorKind.Usage, e.Kind);
    }
}
