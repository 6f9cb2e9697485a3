using System.Collections.Concurrent;
using System.Security.Cryptography;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;
using Depot.Tests.Storage;
using Microsoft.AspNetCore.Http;

namespace Depot.Tests.Server;

/// <summary>
/// The client half of push over HTTP against servers the test controls: the token goes as Bearer and a refusal names
/// its variable only; a web server that is not Depot's stays read-only; a broken blob upload resumes where the server
/// says it stopped.
/// </summary>
public sealed class DepotServerClientTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheTokenGoesAsBearerAndARefusalNamesItsVariableNeverItsValue()
    {
        await using var server = await HostileServer.StartAsync("127.0.0.1", context =>
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Task.CompletedTask;
        });
        using var store = new HttpStore(server.Origin + "/c", token: new BearerToken("DEPOT_PUSH_TOKEN", "s3cret-v"));
        var read = await Assert.ThrowsAsync<DepotException>(() => store.GetInfoAsync("v3/layout.json", Token));
        Assert.Equal(ErrorKind.Authentication, read.Kind);
        Assert.Contains("DEPOT_PUSH_TOKEN", read.Message, StringComparison.Ordinal);
        var probe = await Assert.ThrowsAsync<DepotException>(() => store.GetDepotServerAsync(Token));
        Assert.Equal(ErrorKind.Authentication, probe.Kind);
        Assert.Contains("the server refused the token in DEPOT_PUSH_TOKEN", probe.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", read.Message + probe.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", new BearerToken("V", "s3cret").ToString(), StringComparison.Ordinal);
        Assert.All(server.Requests, r => Assert.Equal("Bearer s3cret-v", r.Authorization));
        Assert.Contains(server.Requests, r => r.Target == "/c/_depot/v1/info");
    }

    [Fact]
    public async Task AWebServerThatIsNotDepotStaysReadOnly()
    {
        await using var server = await HostileServer.StartAsync("127.0.0.1", context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        using var store = new HttpStore(server.Origin + "/c");
        Assert.Null(await store.GetDepotServerAsync(Token));
        var source = new LocalDirectoryStore(TestData.Path(TestData.V3Unsigned));
        await Assert.ThrowsAsync<ReadOnlyStoreException>(() => CopyOperation.RunAsync(
            Mirror.Of(source, TrustPolicy.None("v3")), Mirror.Of(store, purpose: MirrorPurpose.Write),
            new CopyOptions([]), null, Token));
        Assert.DoesNotContain(server.Requests, r => r.Method != "GET" && r.Method != "HEAD");
    }

    [Fact]
    public async Task ABrokenBlobUploadResumesWhereTheServerSaysItStopped()
    {
        var blob = RandomNumberGenerator.GetBytes(300_000);
        var hex = Convert.ToHexStringLower(SHA256.HashData(blob));
        var received = new MemoryStream();
        var ranges = new ConcurrentQueue<string>();
        var puts = 0;
        await using var server = await HostileServer.StartAsync("127.0.0.1", async context =>
        {
            var path = context.Request.Path.Value!;
            if (path == "/c/_depot/v1/info")
            {
                await context.Response.WriteAsync("{\"layout\": 3, \"signing\": \"none\", \"allow_unsigned\": true, "
                    + "\"scope\": \"push\", \"max_body_bytes\": 1000000}", context.RequestAborted);
            }
            else if (path == "/c/_depot/v1/uploads/sha256/" + hex && context.Request.Method == "HEAD")
            {
                context.Response.Headers["Upload-Offset"] = received.Length.ToString(
                    System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (path == "/c/_depot/v1/blobs/sha256/" + hex && context.Request.Method == "PUT")
            {
                ranges.Enqueue(context.Request.Headers.ContentRange.ToString());
                var buffer = new byte[8192];
                int n;
                while ((n = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    received.Write(buffer, 0, n);
                    if (received.Length >= 100_000 && Interlocked.CompareExchange(ref puts, 1, 0) == 0)
                    {
                        context.Abort(); // the connection breaks a third of the way through
                        return;
                    }
                }

                context.Response.StatusCode = received.ToArray().AsSpan().SequenceEqual(blob)
                    ? StatusCodes.Status201Created : StatusCodes.Status422UnprocessableEntity;
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
            }
        });
        using var store = new HttpStore(server.Origin + "/c");
        var api = (await store.GetDepotServerAsync(Token))!;
        Assert.Equal(3, api.Info.Layout);
        Assert.Equal("none", api.Info.Signing);
        using var content = new MemoryStream(blob);
        await api.UploadBlobAsync(hex, content, blob.Length, Token);
        Assert.Equal(blob, received.ToArray());
        var sent = ranges.ToList();
        Assert.Equal(2, sent.Count);
        Assert.Equal("", sent[0]);
        Assert.Matches(@"^bytes \d+-299999/300000$", sent[1]);
    }
}
