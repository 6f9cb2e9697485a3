using System.Diagnostics;
using System.Globalization;
using Depot.Operations;
using Depot.Storage;

namespace Depot.Bench;

/// <summary>
/// <c>profile-index MIRROR [--full] [--repeat R] [--home DIR] [--add N]</c>: runs the engine's own
/// <see cref="IndexOperation"/> in process, R times, and prints per run its phases (wall time), the process CPU time,
/// the bytes allocated, GC counts and the peak working set. CPU time and allocations hardly depend on how loaded the
/// machine is, unlike the wall times of <c>bench/scale.sh</c>. Writes the index (as <c>depot index</c> does);
/// <c>--home</c> keeps the listing summaries and record tables there, as the CLI's <c>DEPOT_HOME</c> would;
/// <c>--add N</c> generates N new specs into the mirror before each run (an incremental index without start-up
/// and JIT).
/// </summary>
internal static class IndexProfiler
{
    public static int Run(string[] args, TextWriter log)
    {
        var full = args.Contains("--full");
        var repeat = 1;
        string? home = null;
        var add = 0;
        var positional = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--full":
                    break;
                case "--repeat" when i + 1 < args.Length:
                    repeat = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--add" when i + 1 < args.Length:
                    add = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--home" when i + 1 < args.Length:
                    home = args[++i];
                    break;
                default:
                    positional.Add(args[i]);
                    break;
            }
        }

        if (positional.Count != 1)
        {
            throw new ArgumentException("profile-index: expected <dir> [--full] [--repeat R] [--home DIR] [--add N]");
        }

        var cache = home is null ? null : new IndexCache(Path.Combine(home, "cache", "indexes"));
        var process = Process.GetCurrentProcess();
        for (var run = 1; run <= repeat; run++)
        {
            if (add > 0)
            {
                var first = (10_000_000 + (run * add)).ToString(CultureInfo.InvariantCulture);
                Program.GenerateV3([positional[0], add.ToString(CultureInfo.InvariantCulture), "--seed",
                    (1000 + run).ToString(CultureInfo.InvariantCulture), "--start", first]);
            }

            var mirror = Mirror.Of(new LocalDirectoryStore(Path.GetFullPath(positional[0])));
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var alloc0 = GC.GetTotalAllocatedBytes(precise: false);
            var gc0 = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var clock = Stopwatch.StartNew();
            var results = IndexOperation.RunAsync(mirror, new IndexOptions(full, Cache: cache)).GetAwaiter()
                .GetResult();
            var wall = clock.Elapsed;
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpu0;
            foreach (var r in results)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run}: v{r.LayoutVersion} {r.Specs} specs, {r.Records} records, {r.Read} read, "
                    + $"{r.Reused} reused{(r.FullRebuild ? ", full rebuild" : "")}"));
                foreach (var phase in r.Phases)
                {
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {phase.Elapsed.TotalMilliseconds,8:0} ms  {phase.Name}"));
                }
            }

            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  wall {wall.TotalSeconds:0.000} s, CPU {cpu.TotalSeconds:0.000} s, allocated "
                + $"{(GC.GetTotalAllocatedBytes(precise: false) - alloc0) / 1048576.0:0} MiB, GC "
                + $"{GC.CollectionCount(0) - gc0.Item1}/{GC.CollectionCount(1) - gc0.Item2}/"
                + $"{GC.CollectionCount(2) - gc0.Item3} (gen0/1/2), peak working set "
                + $"{process.PeakWorkingSet64 / 1048576} MiB"));
        }

        return 0;
    }
}
