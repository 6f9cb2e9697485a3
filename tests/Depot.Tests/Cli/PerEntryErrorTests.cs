using System.Text.Json;
using Depot.Cli;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Depot.Tests.Cli;

/// <summary>
/// Runs over many entries record what concerns one entry and go on, but stop at an error every entry would share:
/// an HTTP mirror (Kestrel serving the fixture) that refuses the tarballs with 403 stops <c>verify</c> with the
/// authentication code instead of reporting every entry as failed.
/// </summary>
public sealed class PerEntryErrorTests : IAsyncLifetime
{
    private readonly TempDir home = new();
    private WebApplication? app;
    private string url = "";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var served = TestData.Path(TestData.V3Unsigned);
        var manifests = Directory.EnumerateFiles(Path.Combine(served, "v3/manifests/spec"), "*.json",
            SearchOption.AllDirectories);
        var tarballs = manifests
            .SelectMany(m => JsonDocument.Parse(File.ReadAllText(m)).RootElement.GetProperty("data").EnumerateArray())
            .Where(d => d.GetProperty("mediaType").GetString()!.Contains("tar", StringComparison.Ordinal))
            .Select(d => d.GetProperty("checksum").GetString()!)
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(tarballs);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (tarballs.Contains(Path.GetFileName(context.Request.Path.Value ?? "")))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }

            await next(context);
        });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(served),
            ServeUnknownFileTypes = true,
            DefaultContentType = "application/octet-stream",
        });
        await app.StartAsync(Token);
        url = app.Urls.Single();
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        home.Dispose();
    }

    private Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => CliRun.RunAsync(home.Path, args);

    [Fact]
    public async Task ARefusedReadStopsTheRunWithTheAuthenticationCode()
    {
        var (code, output, err) = await RunAsync("verify", url, "--no-verify");
        Assert.Equal(ExitCodes.Authentication, code);
        Assert.Equal("", output);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: error: " + url, line, StringComparison.Ordinal);
        Assert.Contains("HTTP 403", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingTarballIsOneFailedEntryAndTheRunGoesOn()
    {
        // The fixture leaves gcc-runtime's tarball out: not found concerns that entry only.
        var (code, output, err) = await RunAsync("verify", TestData.Path(TestData.V3Unsigned), "--no-verify");
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("5 entries checked, 4 ok, 1 failed", output, StringComparison.Ordinal);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("tarball is missing", line, StringComparison.Ordinal);
    }
}
