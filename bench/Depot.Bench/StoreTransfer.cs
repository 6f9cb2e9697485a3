using System.Diagnostics;
using System.Globalization;
using Depot.Storage;
using Depot.Storage.Azure;
using Depot.Storage.Gcs;
using Depot.Storage.Providers;
using Depot.Storage.S3;

namespace Depot.Bench;

/// <summary>
/// <c>store-transfer URL COUNT SIZE_KB PARALLELISM...</c>: writes COUNT objects of SIZE_KB through a store, then reads
/// them back, once per parallelism level, and prints one table row per level (seconds and MB/s each way).
/// <c>--rtt MS</c> puts a <see cref="LatencyProxy"/> in front of the S3 endpoint (<c>AWS_ENDPOINT_URL</c>) so a local
/// server is measured as if it were a network round trip away, as a cloud bucket is.
/// </summary>
internal static class StoreTransfer
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 4)
        {
            throw new ArgumentException("usage: store-transfer <url> <count> <size-kb> [--rtt MS] <parallelism>...");
        }

        var levels = args[3..].ToList();
        await using var proxy = StartProxy(levels);

        var count = int.Parse(args[1], CultureInfo.InvariantCulture);
        var size = int.Parse(args[2], CultureInfo.InvariantCulture) * 1024;
        var payload = new byte[size];
        new Random(7).NextBytes(payload);
        var mb = (double)count * size / 1e6;
        var rtt = proxy is null ? ""
            : $" with {Environment.GetEnvironmentVariable("DEPOT_BENCH_RTT_MS")} ms round trips";
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count} objects of {size / 1024} KiB ({mb:0} MB) through {args[0]}{rtt}"));
        Console.Out.WriteLine($"{"parallelism",-12} {"push s",8} {"push MB/s",10} {"pull s",8} {"pull MB/s",10}");
        double? first = null;
        foreach (var level in levels.Select(a => int.Parse(a, CultureInfo.InvariantCulture)))
        {
            var store = StoreProviders.Builtin.WithS3().WithGcs().WithAzure()
                .Open($"{args[0].TrimEnd('/')}/run-{level}-{Guid.NewGuid():N}").RequireWritable();
            var options = new ParallelOptions { MaxDegreeOfParallelism = level };

            // Untimed warm-up at this parallelism: code is compiled and connections are open before the clock starts.
            await Parallel.ForEachAsync(Enumerable.Range(0, level), options, async (i, token) =>
                await store.WriteAsync($"warm/{i:x8}", new MemoryStream(payload, writable: false), token));
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), options, async (i, token) =>
                await store.WriteAsync($"blobs/sha256/{i % 256:x2}/{i:x8}", new MemoryStream(payload, writable: false),
                    token));
            var push = clock.Elapsed.TotalSeconds;
            clock.Restart();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), options, async (i, token) =>
            {
                await using var stream = await store.OpenReadAsync($"blobs/sha256/{i % 256:x2}/{i:x8}", token);
                await stream.CopyToAsync(Stream.Null, token);
            });
            var pull = clock.Elapsed.TotalSeconds;
            first ??= push + pull;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{level,-12} {push,8:0.00} {mb / push,10:0.0} {pull,8:0.00} {mb / pull,10:0.0}   "
                + $"({first / (push + pull):0.0}x the first level)"));
            (store as IDisposable)?.Dispose();
        }

        return 0;
    }

    private static LatencyProxy? StartProxy(List<string> levels)
    {
        var at = levels.IndexOf("--rtt");
        if (at < 0)
        {
            return null;
        }

        var ms = int.Parse(levels[at + 1], CultureInfo.InvariantCulture);
        levels.RemoveRange(at, 2);
        var endpoint = new Uri(Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL")
            ?? throw new ArgumentException(
                "--rtt needs AWS_ENDPOINT_URL (the local server to put the delay in front of)"));
        var relayed = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(endpoint.Host), endpoint.Port);
        var proxy = new LatencyProxy(relayed, TimeSpan.FromMilliseconds(ms));
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL", $"http://127.0.0.1:{proxy.Port}");
        Environment.SetEnvironmentVariable("DEPOT_BENCH_RTT_MS", ms.ToString(CultureInfo.InvariantCulture));
        return proxy;
    }
}
