using System.Diagnostics;
using Depot.Archive;
using Depot.Formats;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Depot.Tests.Operations;

/// <summary>
/// A tarball fetch never takes more than its entry records (v3) or the download limit (v2, which records no size):
/// a longer blob, or an endless one served by a hostile HTTP server, is refused as soon as the excess arrives.
/// </summary>
public sealed class DownloadLimitTests
{
    private const string V2GreetDataTarball =
        "build_cache/linux-debian12-x86_64/gcc-12.2.0/greet-data-1.0.0/"
        + "linux-debian12-x86_64-gcc-12.2.0-greet-data-1.0.0-zi66hh25uj52mbypxnkvycwkkbwphquj.spack";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AV3BlobLongerThanItsSignedManifestSaysIsRefused()
    {
        using var mirror = TestData.Copy(TestData.V3Signed);
        var (key, length) = V3GreetDataTarball(mirror.Path);
        await using (var blob = new FileStream(Path.Combine(mirror.Path, key), FileMode.Append))
        {
            await blob.WriteAsync(new byte[8 << 20], Token);
        }

        using var root = new TempDir();
        var result = await InstallOperationTests.InstallAsync(InstallOperationTests.Source(mirror.Path, signed: true),
            new PlainRootTarget(root.Path), "greet-data");
        var failed = Assert.Single(result.Outcomes, o => o.Status == InstallStatus.Failed);
        Assert.Equal($"{Path.Combine(mirror.Path, key)}: larger than the {length} bytes its entry records: download "
            + "stopped", failed.Reason);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Path));
    }

    [Fact]
    public async Task AV2TarballOverTheDownloadLimitIsRefused()
    {
        using var root = new TempDir();
        var size = new FileInfo(TestData.Path(TestData.V2Signed + "/" + V2GreetDataTarball)).Length;
        var limits = new ExtractionLimits(MaxDownloadBytes: size - 1);
        var result = await InstallOperation.RunAsync([InstallOperationTests.Source(TestData.Path(TestData.V2Signed),
            signed: true)], [SpecQuery.Parse("greet-data")],
            new InstallOptions(new PlainRootTarget(root.Path), Limits: limits), null, Token);
        var failed = Assert.Single(result.Outcomes, o => o.Status == InstallStatus.Failed);
        Assert.EndsWith($"{V2GreetDataTarball}: larger than the download limit of {size - 1} bytes (a v2 entry records "
            + "no size): download stopped", failed.Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Path));

        // At its exact size it installs: the limit is not off by one.
        var exact = await InstallOperation.RunAsync([InstallOperationTests.Source(TestData.Path(TestData.V2Signed),
            signed: true)], [SpecQuery.Parse("greet-data")],
            new InstallOptions(new PlainRootTarget(root.Path), Limits: limits with { MaxDownloadBytes = size }), null,
                Token);
        Assert.False(exact.AnyFailed, string.Join("; ", exact.Outcomes.Select(o => o.Reason)));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    public async Task AnEndlessTarballFromAnHttpMirrorStopsAtTheLimit(int layout)
    {
        using var served = TestData.Copy(layout == 3 ? TestData.V3Unsigned : TestData.V2Unsigned);
        var (endlessKey, limit) = layout == 3 ? V3GreetDataTarball(served.Path) : (V2GreetDataTarball, 4L << 20);
        await using var server = new EndlessTarballServer(served.Path, endlessKey);

        using var cache = new TempDir();
        using var store = new HttpStore(server.Url, cache.Path);
        using var root = new TempDir();
        var clock = Stopwatch.StartNew();
        var result = await InstallOperation.RunAsync([Mirror.Of(store, TrustPolicy.None("http"), name: "http")],
            [SpecQuery.Parse("greet-data")],
            new InstallOptions(new PlainRootTarget(root.Path),
                Limits: new ExtractionLimits(MaxDownloadBytes: layout == 3 ? 64L << 30 : limit)), null, Token);

        var failed = Assert.Single(result.Outcomes, o => o.Status == InstallStatus.Failed);
        Assert.Contains(layout == 3 ? $"larger than the {limit} bytes its entry records: download stopped"
            : $"larger than the download limit of {limit} bytes", failed.Reason, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Equal(1, server.EndlessRequests);
        await server.WaitUntilTheClientHungUpAsync();
        // What the kernel accepted from the server: what the client read plus two socket buffers.
        Assert.True(server.Sent < limit + (16L << 20),
            $"the server sent {server.Sent} bytes before the client hung up");
        TestContext.Current.SendDiagnosticMessage($"limit {limit}: the server sent {server.Sent} bytes");
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Path));
    }

    private static (string Key, long Length) V3GreetDataTarball(string mirror)
    {
        var path = Directory.GetFiles(Path.Combine(mirror, "v3/manifests/spec/greet-data"), "*.json").Single();
        var text = File.ReadAllText(path);
        var json = text.StartsWith("-----BEGIN PGP SIGNED MESSAGE-----", StringComparison.Ordinal)
            ? ClearSignedMessage.Parse(text, path).Body
            : text;
        var record = BuildCacheManifest.Parse(Encoding.UTF8.GetBytes(json), path).Find(MediaTypes.Tarball)!;
        return (record.BlobKey, record.ContentLength);
    }

    /// <summary>
    /// A minimal HTTP/1.1 server on a TcpListener: files of a folder (Connection: close), except one key, answered
    /// with an endless body and no Content-Length. A raw socket, so that what it counts as sent is what the kernel
    /// accepted, which stops once the client stops reading.
    /// </summary>
    private sealed class EndlessTarballServer : IAsyncDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stop = new();
        private readonly TaskCompletionSource hungUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly string folder;
        private readonly string endlessKey;
        private readonly Task accepting;
        private long sent;
        private int endlessRequests;

        public EndlessTarballServer(string folder, string endlessKey)
        {
            this.folder = folder;
            this.endlessKey = endlessKey;
            listener.Start();
            accepting = AcceptAsync();
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/";

        public long Sent => Interlocked.Read(ref sent);

        public int EndlessRequests => Volatile.Read(ref endlessRequests);

        public Task WaitUntilTheClientHungUpAsync() => hungUp.Task.WaitAsync(TimeSpan.FromSeconds(30), Token);

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            listener.Stop();
            await accepting.ContinueWith(_ => { }, TaskScheduler.Default);
            stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stop.Token);
                _ = Task.Run(() => ServeAsync(client));
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                client.SendBufferSize = 64 << 10;
                var stream = client.GetStream();
                var request = await ReadRequestLineAsync(stream);
                var parts = request.Split(' ');
                var key = Uri.UnescapeDataString(parts[1].Split('?')[0].TrimStart('/'));
                if (key == endlessKey)
                {
                    Interlocked.Increment(ref endlessRequests);
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: "
                        + "application/octet-stream\r\nConnection: close\r\n\r\n"), stop.Token);
                    var chunk = new byte[1 << 16];
                    Random.Shared.NextBytes(chunk);
                    try
                    {
                        // Endless for the client; 1 GiB (250 times the v2 limit) spares the test machine's disk if not.
                        while (Sent < 1L << 30)
                        {
                            await stream.WriteAsync(chunk, stop.Token);
                            Interlocked.Add(ref sent, chunk.Length);
                        }
                    }
                    catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
                    {
                        // The client hung up.
                    }
                    finally
                    {
                        hungUp.TrySetResult();
                    }

                    return;
                }

                var path = Path.Combine(folder, key);
                var body = File.Exists(path) ? await File.ReadAllBytesAsync(path) : [];
                var status = File.Exists(path) ? "200 OK" : "404 Not Found";
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: "
                    + $"application/octet-stream\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
                if (parts[0] == "GET")
                {
                    await stream.WriteAsync(body);
                }
            }
        }

        // The request line; the headers after it are read and ignored (no request here has a body).
        private static async Task<string> ReadRequestLineAsync(NetworkStream stream)
        {
            var head = new List<byte>();
            var one = new byte[1];
            while (await stream.ReadAsync(one) == 1)
            {
                head.Add(one[0]);
                if (head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n')
                {
                    break;
                }
            }

            var text = Encoding.ASCII.GetString(head.ToArray());
            return text[..Math.Max(0, text.IndexOf('\r', StringComparison.Ordinal))];
        }
    }
}
