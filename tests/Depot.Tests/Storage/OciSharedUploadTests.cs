using System.Net;
using Depot.Storage.Oci;
using Microsoft.AspNetCore.Http;

namespace Depot.Tests.Storage;

/// <summary>
/// Small blobs many manifests share (the empty <c>{}</c> config) are uploaded once however many writers of one client
/// want them at the same moment: two uploads of one digest committing together made the distribution registry
/// briefly answer MANIFEST_BLOB_UNKNOWN to a manifest naming it (found by bench/concurrency.sh).
/// </summary>
public sealed class OciSharedUploadTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConcurrentWritersOfOneSmallBlobMakeOneUpload()
    {
        var heads = 0;
        var sessions = 0;
        var commits = 0;
        await using var registry = await HostileServer.StartAsync("127.0.0.1", async context =>
        {
            var (method, path) = (context.Request.Method, context.Request.Path.Value ?? "");
            if (method == "HEAD" && path.StartsWith("/v2/repo/blobs/", StringComparison.Ordinal))
            {
                // A slow answer: every writer starts before any upload is made, so without sharing each would
                // ask, then upload.
                Interlocked.Increment(ref heads);
                await Task.Delay(300, Token);
                context.Response.StatusCode = (int)HttpStatusCode.NotFound;
            }
            else if (method == "POST" && path == "/v2/repo/blobs/uploads/")
            {
                Interlocked.Increment(ref sessions);
                context.Response.StatusCode = (int)HttpStatusCode.Accepted;
                context.Response.Headers.Location = "/v2/repo/blobs/uploads/session-" + sessions;
            }
            else if (method == "PUT" && path.StartsWith("/v2/repo/blobs/uploads/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref commits);
                context.Response.StatusCode = (int)HttpStatusCode.Created;
            }
            else
            {
                context.Response.StatusCode = (int)HttpStatusCode.NotFound;
            }
        });
        using var client = new OciRegistryClient(OciReference.Parse($"oci+http://{registry.Authority}/repo"));

        var writers = Enumerable.Range(0, 8).Select(_ => client.PutBlobIfMissingAsync("{}"u8.ToArray(), Token))
            .ToList();
        var digests = await Task.WhenAll(writers);

        Assert.Single(digests.Distinct());
        Assert.Equal((1, 1, 1), (heads, sessions, commits));

        // Only uploads in flight are shared: a later writer asks the registry again.
        await client.PutBlobIfMissingAsync("{}"u8.ToArray(), Token);
        Assert.Equal(2, heads);
    }
}
