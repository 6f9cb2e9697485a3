using Depot.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Depot.Tests.Storage;

/// <summary>
/// The read contract against the read-only HTTP store: each test's objects are files under a fresh folder that Kestrel
/// serves, read through an <see cref="HttpStore"/> that keeps index copies in a cache folder, as the CLI's does.
/// </summary>
public sealed class HttpStoreReadContractTests : StoreReaderContractTests<HttpStore>, IAsyncLifetime
{
    private readonly TempDir served = new();
    private readonly TempDir cache = new();
    private readonly List<HttpStore> stores = [];
    private WebApplication? app;
    private string origin = "";

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        app = builder.Build();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(served.Path),
            ServeUnknownFileTypes = true,
            DefaultContentType = "application/octet-stream",
        });
        await app.StartAsync(Token);
        origin = app.Urls.First();
    }

    public override async ValueTask DisposeAsync()
    {
        stores.ForEach(s => s.Dispose());
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        served.Dispose();
        cache.Dispose();
        await base.DisposeAsync();
    }

    protected override async Task<HttpStore> CreateSeededAsync(IReadOnlyDictionary<string, byte[]> objects)
    {
        var mirror = "m" + Guid.NewGuid().ToString("N")[..8];
        foreach (var (key, content) in objects)
        {
            var path = Path.Combine(served.Path, mirror, key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, content, Token);
        }

        var store = new HttpStore($"{origin}/{mirror}", cache.Path);
        stores.Add(store);
        return store;
    }
}
