using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Specs;
using Depot.Storage;
using Depot.Storage.Oci;
using Depot.Tests.Storage;

namespace Depot.Tests.Layout;

/// <summary>Layout v3 (Spack 1.x) in a directory.</summary>
public sealed class V3WriterContractTests : BuildCacheWriterContractTests
{
    protected override string LayoutName => "v3";

    protected override int? Version => null; // an empty mirror gets v3

    protected override string? SameKindMirror => TestData.V3Signed;

    protected override IObjectStore CreateStore() => new LocalDirectoryStore(Scratch.Path);

    protected override Task RemoveTarballAsync(SpecNode spec, string sha256) =>
        Store.DeleteAsync(BuildCacheV3.BlobKey("sha256", sha256), Token);

    protected override Task RemoveMetadataAsync(SpecNode spec) =>
        Store.DeleteAsync(BuildCacheV3.SpecManifestKey(spec), Token);
}

/// <summary>The v2 <c>build_cache/</c> layout as Spack 0.21 writes it, in a directory.</summary>
public class V2WriterContractTests : BuildCacheWriterContractTests
{
    protected override string LayoutName => "v2";

    protected override int? Version => 2;

    protected override int SpecLayoutVersion => 1;

    protected override string? SameKindMirror => TestData.V2Signed;

    protected override IObjectStore CreateStore() => new LocalDirectoryStore(Scratch.Path);

    protected override Task RemoveTarballAsync(SpecNode spec, string sha256) =>
        Store.DeleteAsync(BuildCacheV2.TarballKey(spec), Token);

    protected override async Task RemoveMetadataAsync(SpecNode spec)
    {
        await Store.DeleteAsync(BuildCacheV2.SpecFileKey(spec, signed: true), Token);
        await Store.DeleteAsync(BuildCacheV2.SpecFileKey(spec, signed: false), Token);
    }

    [Fact]
    public async Task SpecFilesCarryTheRequestedLayoutVersionAndTheTarballChecksum()
    {
        var source = await SourceAsync("greet-data");
        await WriteAsync(await WriterAsync(signed: false), source);
        var key = BuildCacheV2.SpecFileKey(source.Spec.Root, signed: false);
        var spec = SpecFile.Parse(await Store.ReadAllBytesAsync(key, cancellationToken: Token), key);
        Assert.Equal(SpecLayoutVersion, spec.BuildcacheLayoutVersion);
        Assert.Equal(source.Sha256, spec.BinaryCacheChecksum!.Hash);
    }

    [Fact]
    public async Task ASignedSpecFileReplacesThePlainOne()
    {
        var source = await SourceAsync("greet-data");
        await WriteAsync(await WriterAsync(signed: false), source);
        await WriteAsync(await WriterAsync(signed: true), source);
        Assert.True(await Store.ExistsAsync(BuildCacheV2.SpecFileKey(source.Spec.Root, signed: true), Token));
        Assert.False(await Store.ExistsAsync(BuildCacheV2.SpecFileKey(source.Spec.Root, signed: false), Token));
    }
}

/// <summary>The v2 layout as Spack 0.22/0.23 write it (<c>buildcache_layout_version</c> 2).</summary>
public sealed class V2Spack022WriterContractTests : V2WriterContractTests
{
    protected override int SpecLayoutVersion => 2;
}

/// <summary>Spack's OCI layout in the real registry (docker-registry).</summary>
public sealed class OciWriterContractTests(DockerRegistry registry)
    : BuildCacheWriterContractTests, IClassFixture<DockerRegistry>
{
    protected override string LayoutName => "oci";

    protected override int? Version => null; // a registry holds the OCI layout, whatever is asked

    protected override string? SameKindMirror => null;

    private OciRegistryClient Registry => ((OciStore)Store).Registry;

    protected override IObjectStore CreateStore() =>
        new OciStore(OciReference.Parse(registry.Url("writer/r" + Guid.NewGuid().ToString("N")[..10])));

    protected override async Task RemoveTarballAsync(SpecNode spec, string sha256) =>
        Assert.True(await Registry.DeleteBlobAsync("sha256:" + sha256, Token));

    protected override async Task RemoveMetadataAsync(SpecNode spec)
    {
        var image = await Registry.HeadManifestAsync(Depot.Layout.Oci.BuildCacheOci.TagFor(spec), Token);
        Assert.True(await Registry.DeleteManifestAsync(image!.Value.Digest, Token));
    }

    [Fact]
    public async Task ALayerIsNotAnEntryUntilItsImageIsWritten()
    {
        var source = await SourceAsync("greet-data");
        var writer = await WriterAsync(signed: false);
        await WriteAsync(writer, source);
        Assert.Equal((long?)source.Tarball.LongLength, await Registry.HeadBlobAsync("sha256:" + source.Sha256, Token));
        Assert.False(await writer.ExistsAsync(source.Spec.Root, Token));

        Assert.Empty(await writer.CompleteAsync(1, Token));
        Assert.True(await writer.ExistsAsync(source.Spec.Root, Token));
    }

    [Fact]
    public async Task AskingAnotherLayoutOfARegistryStillWritesTheOciLayout()
    {
        var layout = await BuildCache.OpenForWriteAsync(Store, 2, Token);
        Assert.Equal("oci", layout.Name);
        Assert.True(BuildCache.HoldsOciLayout(Store));
        Assert.Equal("oci", BuildCache.ForVersion(Store, 2).Name);
    }
}
