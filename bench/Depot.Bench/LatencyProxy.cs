using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Depot.Bench;

/// <summary>
/// A TCP relay on 127.0.0.1 that holds every chunk for half a round trip in each direction before passing it on, so a
/// local server behaves like one a network away. Chunks are queued with their due time rather than slept on one by
/// one: latency is added, bandwidth is not taken away (a real link pipelines bytes the same way).
/// </summary>
internal sealed class LatencyProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint upstream;
    private readonly TimeSpan oneWay;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;

    public LatencyProxy(IPEndPoint upstream, TimeSpan roundTrip)
    {
        this.upstream = upstream;
        oneWay = roundTrip / 2;
        listener.Start(512);
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stop.Token);
                _ = RelayAsync(client);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient { NoDelay = true })
        {
            client.NoDelay = true;
            try
            {
                await server.ConnectAsync(upstream, stop.Token);
                using var done = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                var up = PumpAsync(client.GetStream(), server.GetStream(), done.Token);
                var down = PumpAsync(server.GetStream(), client.GetStream(), done.Token);
                await Task.WhenAny(up, down);
                await done.CancelAsync();
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }

    private async Task PumpAsync(Stream from, Stream to, CancellationToken token)
    {
        var queue = Channel.CreateUnbounded<(byte[] Data, long Due)>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(async () =>
        {
            await foreach (var (data, due) in queue.Reader.ReadAllAsync(token))
            {
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), token);
                }

                await to.WriteAsync(data, token);
            }
        }, token);
        var buffer = new byte[256 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, token)) > 0)
            {
                var due = Stopwatch.GetTimestamp() + (long)(oneWay.TotalSeconds * Stopwatch.Frequency);
                queue.Writer.TryWrite((buffer[..read], due));
            }
        }
        finally
        {
            queue.Writer.TryComplete();
        }

        await writer;
        (to as NetworkStream)?.Socket.Shutdown(SocketShutdown.Send);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await accepting;
        stop.Dispose();
    }
}
