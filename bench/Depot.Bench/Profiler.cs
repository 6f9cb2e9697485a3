using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Depot.Formats;
using Depot.Layout;
using Depot.Specs;

namespace Depot.Bench;

/// <summary>
/// <c>profile-v3 MIRROR</c>: re-does, stage by stage and in process, the work of <c>depot list</c> (index present) and
/// <c>depot index --full</c> with Depot's own parsers, and prints where the time and memory go. Reads files directly
/// (no writes), so it never changes the mirror. The index path modelled is the one of Depot 6bf5a40 (every entry
/// through <see cref="SpecFile.Parse"/>, all kept until the index is built); when the engine changes, the CLI timings
/// of <c>bench/list-index.sh</c> are the reference.
/// </summary>
internal static class Profiler
{
    public static int Run(string mirror, int parallelism, bool retain, TextWriter log)
    {
        mirror = Path.GetFullPath(mirror);
        var total = Stopwatch.StartNew();
        log.WriteLine($"profile-v3 {mirror} (process start to Main: "
            + $"{(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds:0.000} s)");

        // --- depot list: read the index ---
        var indexManifestPath = Path.Combine(mirror, BuildCacheV3.IndexManifestKey);
        if (File.Exists(indexManifestPath))
        {
            var manifest = Time(log, "list: index manifest read+parse", () =>
                BuildCacheManifest.Parse(File.ReadAllBytes(indexManifestPath), indexManifestPath));
            var record = manifest.Find(MediaTypes.IndexPrefix, prefix: true)!;
            var blobPath = Path.Combine(mirror, record.BlobKey);
            var bytes = Time(log, $"list: read index blob ({record.ContentLength / 1048576.0:0.0} MiB)",
                () => File.ReadAllBytes(blobPath));
            Time(log, "list: sha256 of index blob", () => SHA256.HashData(bytes));
            Time(log, "list: JsonDocument.Parse alone", () =>
            {
                using var doc = JsonDocument.Parse(bytes);
                return doc.RootElement.ValueKind;
            });
            var index = Time(log, "list: BuildCacheIndex.Parse (JSON + SpecNode per record)",
                () => BuildCacheIndex.Parse(bytes, blobPath));
            var cached = Time(log, "list: select in_buildcache + sort", () => index.CachedSpecs
                .OrderBy(s => s.Name, StringComparer.Ordinal).ThenBy(s => s.Version, StringComparer.Ordinal)
                .ThenBy(s => s.Hash, StringComparer.Ordinal).ToList());
            Time(log, $"list: format {cached.Count} lines (group by arch / compiler label)", () =>
            {
                using var w = new StringWriter(CultureInfo.InvariantCulture);
                foreach (var g in cached.GroupBy(s => $"{s.Architecture} / "
                    + $"{SpecFormatter.CompilerLabel(s, h => index.Find(h)?.Spec)}")
                             .OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    w.WriteLine(SpecFormatter.Header(g.Key));
                    foreach (var s in g)
                    {
                        w.WriteLine(SpecFormatter.Short(s));
                    }
                }

                return w.GetStringBuilder().Length;
            });
            Time(log, "list: re-serialise index (ToJsonBytes, as incremental index does)",
                () => index.ToJsonBytes().Length);
            log.WriteLine($"  peak working set so far: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MiB");
            GC.KeepAlive(index);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  GC so far: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} "
                + $"gen2 collections, total pause {GC.GetTotalPauseDuration().TotalSeconds:0.00} s"));
        }
        else
        {
            log.WriteLine("  (no index: list stages skipped)");
        }

        // --- depot index --full: read every entry ---
        var specDir = Path.Combine(mirror, BuildCacheV3.SpecManifestPrefix);
        var manifests = Time(log, "index: enumerate spec manifests", () =>
            Directory.EnumerateFiles(specDir, "*" + BuildCacheV3.SpecManifestSuffix, SearchOption.AllDirectories)
                .ToList());
        var ioTicks = 0L;
        var gunzipTicks = 0L;
        var parseTicks = 0L;
        var rawBytes = 0L;
        var specs = new ConcurrentBag<SpecFile>();
        var what = $"index: read {manifests.Count} entries (manifest, blob, sha256, gunzip, SpecFile.Parse; "
            + $"{parallelism} threads)";
        Time(log, what, () =>
        {
            Parallel.ForEach(manifests, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, path =>
            {
                var t0 = Stopwatch.GetTimestamp();
                var manifest = BuildCacheManifest.Parse(File.ReadAllBytes(path), path);
                var record = manifest.Find(MediaTypes.SpecPrefix, prefix: true)!;
                var blob = File.ReadAllBytes(Path.Combine(mirror, record.BlobKey));
                SHA256.HashData(blob);
                var t1 = Stopwatch.GetTimestamp();
                var json = Gzip.Decompress(blob, path);
                Interlocked.Add(ref rawBytes, json.Length);
                var t2 = Stopwatch.GetTimestamp();
                var spec = SpecFile.Parse(json, path);
                if (retain)
                {
                    specs.Add(spec);
                }
                else
                {
                    spec.Document.Dispose();
                }

                var t3 = Stopwatch.GetTimestamp();
                Interlocked.Add(ref ioTicks, t1 - t0);
                Interlocked.Add(ref gunzipTicks, t2 - t1);
                Interlocked.Add(ref parseTicks, t3 - t2);
            });
            return 0;
        });
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  thread time: read+manifest+sha256 {Seconds(ioTicks):0.00} s, gunzip {Seconds(gunzipTicks):0.00} s "
            + $"({rawBytes / 1048576.0:0} MiB of JSON), SpecFile.Parse {Seconds(parseTicks):0.00} s "
            + $"({specs.Sum(s => s.Nodes.Count)} nodes parsed for {specs.Count} entries)"));
        log.WriteLine($"  peak working set so far: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MiB "
            + $"(managed heap {GC.GetTotalMemory(false) / 1048576} MiB)");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  GC so far: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(1)} gen1, {GC.CollectionCount(2)} gen2 "
            + $"collections, total pause {GC.GetTotalPauseDuration().TotalSeconds:0.00} s"));
        if (!retain)
        {
            log.WriteLine("  (--no-retain: spec files dropped after parsing; index build stages skipped)");
            return 0;
        }

        var list = specs.OrderBy(s => s.Root.Hash, StringComparer.Ordinal).ToList();
        var nodes = new Dictionary<string, SpecNode>(StringComparer.Ordinal);
        foreach (var node in list.SelectMany(s => s.Nodes))
        {
            nodes.TryAdd(node.Hash, node);
        }

        var built = Time(log, "index: IndexComposer.Compose", () =>
            IndexComposer.Compose(8, list.Select(s => s.Root.Hash).ToList(), null, nodes));
        var json = Time(log, "index: write the composed index to memory",
            () => built.ToArrayAsync().GetAwaiter().GetResult());
        GC.KeepAlive(list);
        Time(log, "index: sha256 of new index", () => SHA256.HashData(json));
        log.WriteLine($"  new index: {json.Length / 1048576.0:0.0} MiB, {built.Records} records; peak working set "
            + $"{Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MiB");
        log.WriteLine($"profile total {total.Elapsed.TotalSeconds:0.00} s");
        return 0;
    }

    private static double Seconds(long ticks) => ticks / (double)Stopwatch.Frequency;

    private static T Time<T>(TextWriter log, string what, Func<T> action)
    {
        var clock = Stopwatch.StartNew();
        var result = action();
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {clock.Elapsed.TotalSeconds,7:0.000} s  {what}"));
        return result;
    }
}
