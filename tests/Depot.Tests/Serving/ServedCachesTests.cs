using Depot.Configuration;
using Depot.Operations;
using Depot.Serving;
using Depot.Storage.Providers;

namespace Depot.Tests.Serving;

/// <summary>Opening the caches of a configuration: every store once, and a registry refused with the way out.</summary>
public class ServedCachesTests
{
    [Fact]
    public void EachCacheIsOpenedOnceAndFoundByItsExactName()
    {
        using var home = new TempDir();
        var engine = new EngineContext(new DepotHome(home.Path), StoreProviders.Builtin);
        var config = ServeConfig.ZeroConfig([TestData.Path("spack-1.2/mirror-signed"), home.Path], null,
            home.Combine("tokens.json"));

        var caches = ServedCaches.Open(engine, config);

        Assert.Equal(["mirror-signed", Path.GetFileName(home.Path)], caches.All.Select(c => c.Name));
        Assert.Same(caches.All[0], caches.Find("mirror-signed"));
        Assert.Null(caches.Find("Mirror-Signed"));
    }

    [Fact]
    public void AnOciRegistryIsRefusedSayingSpackReadsItDirectly()
    {
        using var home = new TempDir();
        var engine = new EngineContext(new DepotHome(home.Path), StoreProviders.Builtin);
        var config = ServeConfig.ZeroConfig(["oci+http://127.0.0.1:9/team/cache"], null, home.Combine("t.json"));

        var error = Assert.Throws<DepotException>(() => ServedCaches.Open(engine, config));

        Assert.Equal(ErrorKind.Unsupported, error.Kind);
        Assert.StartsWith("cache cache: oci+http://127.0.0.1:9/team/cache is an OCI registry", error.Message,
            StringComparison.Ordinal);
    }
}
