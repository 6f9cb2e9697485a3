using Depot.Configuration;
using Depot.Storage;
using Depot.Storage.Azure;
using Depot.Storage.Gcs;
using Depot.Storage.Oci;
using Depot.Storage.Providers;
using Depot.Storage.S3;

namespace Depot.Tests.Storage;

/// <summary>
/// Mirror URLs reach their store through the provider of their scheme, and only the providers a host ships.
/// </summary>
public sealed class StoreProvidersTests
{
    private static readonly StoreProviders Everything = StoreProviders.Builtin.WithS3().WithGcs().WithAzure();

    [Theory]
    [InlineData("/srv/mirror", typeof(LocalDirectoryStore), "/srv/mirror")]
    [InlineData("file:///srv/mirror", typeof(LocalDirectoryStore), "/srv/mirror")]
    [InlineData("http://cache.example.org/spack", typeof(HttpStore), "http://cache.example.org/spack")]
    [InlineData("https://cache.example.org/spack", typeof(HttpStore), "https://cache.example.org/spack")]
    [InlineData("oci://ghcr.io/org/cache", typeof(OciStore), "oci://ghcr.io/org/cache")]
    [InlineData("oci+http://127.0.0.1:5000/cache", typeof(OciStore), "oci+http://127.0.0.1:5000/cache")]
    [InlineData("s3://bucket/spack/cache", typeof(S3Store), "s3://bucket/spack/cache")]
    [InlineData("S3://bucket", typeof(S3Store), "s3://bucket")]
    [InlineData("gs://bucket/cache", typeof(GcsStore), "gs://bucket/cache")]
    [InlineData("azure://account/container/cache", typeof(AzureBlobStore), "azure://account/container/cache")]
    [InlineData("https://account.blob.core.windows.net/container/cache", typeof(AzureBlobStore),
        "azure://account/container/cache")]
    public void EachSchemeOpensTheStoreOfItsProvider(string url, Type store, string root)
    {
        var opened = Everything.Open(url);
        try
        {
            Assert.IsType(store, opened);
            Assert.Equal(root, opened.Root);
        }
        finally
        {
            (opened as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void TheCliShipsEveryProvider() =>
        Assert.Equal(["azure", "file", "gs", "http", "https", "oci", "oci+http", "oci+https", "s3"],
            Depot.Cli.ShippedStores.Providers.Schemes);

    [Fact]
    public void AnUnknownSchemeIsRefusedInOneLineNamingWhatIsSupported()
    {
        var e = Assert.Throws<DepotException>(() => Everything.Open("ftp://host/cache"));
        Assert.Equal("mirror 'ftp://host/cache': the 'ftp' scheme is not supported (this program opens a directory, "
            + "azure://, file://, gs://, http://, https://, oci://, oci+http://, oci+https://, s3://)", e.Message);
    }

    [Fact]
    public void AHostWithoutTheAzureProviderRefusesAzureUrlsNamingTheProvider()
    {
        var withoutAzure = StoreProviders.Builtin.WithS3().WithGcs();
        var e = Assert.Throws<DepotException>(() => withoutAzure.Open("azure://account/container/cache"));
        Assert.StartsWith("mirror 'azure://account/container/cache': azure:// needs the Depot.Storage.Azure store "
            + "provider, which this program was built without", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("azure://,", e.Message, StringComparison.Ordinal);

        // Azure's https hosts are then plain (read-only) HTTP, as for any web server.
        Assert.IsType<HttpStore>(withoutAzure.Open("https://account.blob.core.windows.net/container/cache"));
    }

    [Theory]
    [InlineData("s3://bucket", "Depot.Storage.S3")]
    [InlineData("gs://bucket", "Depot.Storage.Gcs")]
    [InlineData("azure://account/container", "Depot.Storage.Azure")]
    public void TheEngineAloneOpensNoCloudUrl(string url, string project)
    {
        var e = Assert.Throws<DepotException>(() => StoreProviders.Builtin.Open(url));
        Assert.Contains($"needs the {project} store provider", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://", "names no bucket")]
    [InlineData("gs:///cache", "names no bucket")]
    [InlineData("azure://account", "names no container")]
    [InlineData("azure:///container", "names no account")]
    [InlineData("", "no mirror given")]
    public void MalformedUrlsNameWhatIsMissing(string url, string expected)
    {
        var e = Assert.Throws<DepotException>(() => Everything.Open(url));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoProvidersOfOneSchemeAreRefusedWhenTheHostBuildsItsSet() =>
        Assert.Throws<ArgumentException>(() => Everything.WithS3());

    [Fact]
    public void AConfiguredMirrorsVariablesAreReadOnlyByTheProviderThatUsesThem()
    {
        using var home = new TempDir();
        var depotHome = new DepotHome(home.Path);
        var unset = "DEPOT_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var config = new DepotConfig();
        var pair = new MirrorAccessPair { IdVariable = unset, SecretVariable = unset };
        config.Mirrors["cloud"] = new MirrorConfig { Url = "s3://bucket/cache", AccessPair = pair };
        config.Mirrors["web"] = new MirrorConfig { Url = "https://cache.example.org/spack", AccessPair = pair };
        config.Mirrors["blob"] = new MirrorConfig
        {
            Url = "azure://account/container",
            AzureConnectionStringVariable = unset,
        };
        config.Save(depotHome.ConfigFile);
        var registry = MirrorRegistry.Load(depotHome, Everything, includeSpack: false);

        var e = Assert.Throws<DepotException>(() => registry.Open("cloud", push: false, httpCache: null));
        Assert.Equal($"mirror 'cloud' (depot ({depotHome.ConfigFile})): environment variable {unset} is not set",
            e.Message);
        e = Assert.Throws<DepotException>(() => registry.Open("blob", push: true, httpCache: null));
        Assert.Contains($"environment variable {unset} is not set", e.Message, StringComparison.Ordinal);
        using var web = Assert.IsType<HttpStore>(registry.Open("web", push: false, httpCache: null));
    }
}
