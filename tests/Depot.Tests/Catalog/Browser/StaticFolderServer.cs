using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Depot.Tests.Catalog.Browser;

/// <summary>
/// A plain static web server over a folder (ASP.NET Core's static files on 127.0.0.1, <c>index.html</c> for a folder
/// URL), as a bucket website or GitHub Pages would serve an export: no Depot code answers its requests.
/// </summary>
public sealed class StaticFolderServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private StaticFolderServer(WebApplication app) => this.app = app;

    /// <summary>The server's root URL (ends with <c>/</c>).</summary>
    public Uri BaseUrl => new(app.Services.GetRequiredService<IServer>().Features
        .Get<IServerAddressesFeature>()!.Addresses.First() + "/");

    public static async Task<StaticFolderServer> StartAsync(string folder, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var files = new PhysicalFileProvider(folder);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        await app.StartAsync(cancellationToken);
        return new StaticFolderServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }
}
