using System.Globalization;

namespace Depot.Bench;

/// <summary>Benchmark helpers for Depot. <c>generate-v3 DIR N [--seed S] [--start K] [--jobs J]</c>.</summary>
internal static class Program
{
    private const string Usage = """
        usage: Depot.Bench generate-v3 <dir> <N> [--seed S] [--start K] [--jobs J] [--max-dag-nodes M]
               Depot.Bench profile-v3 <dir> [threads] [--no-retain]
               Depot.Bench profile-index <dir> [--full] [--repeat R] [--home DIR] [--add N]
               Depot.Bench store-transfer <url> <count> <size-kb> <parallelism>...
               Depot.Bench catalog-search <base-url> <cache> <count> [--seed S]
               Depot.Bench catalog-page <base-url> <cache> <loads> [--seed S]

          Writes N synthetic Spack 1.x specs into a build cache layout v3 at <dir> (no index; run `depot index`).
          --seed S    random stream (default 1)
          --start K   number of the first spec (default 0). To add specs to an existing mirror use a --start past
                      the specs already there (or another --seed); hashes already in the mirror are never reused
                      and a sample of the existing specs becomes dependencies of the new ones.
          --jobs J    parallel writers (default: cores, at least 2)
          --max-dag-nodes M  cap on nodes per spec DAG (default 60)

          profile-v3 re-does the work of `depot list` and `depot index --full` stage by stage in process (read-only)
          and prints time and memory per stage. profile-index runs the engine's index operation in process (it
          writes the index) and prints its phases, CPU time, allocations and peak working set per run.
          DEPOT_BENCH_PROFILE=1 makes generate-v3 print its own stage times.

          catalog-search and catalog-page measure a running `depot serve`'s web catalog (bench/catalog.sh): searches
          timed by the server (Server-Timing), and the cache page loaded in Chromium (/usr/bin/chromium).
        """;

    public static int Main(string[] args)
    {
        if (args.Length < 1 || args[0] is "-h" or "--help")
        {
            Console.Out.WriteLine(Usage);
            return args.Length < 1 ? 2 : 0;
        }

        try
        {
            return args[0] switch
            {
                "generate-v3" => GenerateV3(args[1..]),
                "store-transfer" => StoreTransfer.RunAsync(args[1..]).GetAwaiter().GetResult(),
                "catalog-search" => CatalogBench.SearchAsync(args[1..]).GetAwaiter().GetResult(),
                "catalog-page" => CatalogBench.PageAsync(args[1..]).GetAwaiter().GetResult(),
                "profile-index" => IndexProfiler.Run(args[1..], Console.Out),
                "profile-v3" when args.Length >= 2 => Profiler.Run(args[1],
                    args.Length >= 3 && args[2] != "--no-retain" ? int.Parse(args[2], CultureInfo.InvariantCulture)
                        : 16,
                    !args.Contains("--no-retain"), Console.Out),
                _ => Fail($"unknown command '{args[0]}'"),
            };
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
        catch (Exception e)
            when (e is IOException or UnauthorizedAccessException or DepotException or AggregateException
                or HttpRequestException or Microsoft.Playwright.PlaywrightException)
        {
            Console.Error.WriteLine("Depot.Bench: error: "
                + (e is AggregateException a ? a.Flatten().InnerExceptions[0].Message : e.Message));
            return 1;
        }
    }

    internal static int GenerateV3(string[] args)
    {
        var positional = new List<string>();
        long seed = 1;
        var start = 0;
        var jobs = Math.Max(2, Environment.ProcessorCount);
        var maxNodes = 60;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--seed":
                    seed = long.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--start":
                    start = int.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--jobs":
                    jobs = Math.Max(1, int.Parse(Value(), CultureInfo.InvariantCulture));
                    break;
                case "--max-dag-nodes":
                    maxNodes = Math.Max(8, int.Parse(Value(), CultureInfo.InvariantCulture));
                    break;
                default:
                    if (args[i].StartsWith('-'))
                    {
                        throw new ArgumentException($"unknown option '{args[i]}'");
                    }

                    positional.Add(args[i]);
                    break;
            }
        }

        if (positional.Count != 2
            || !int.TryParse(positional[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            throw new ArgumentException("expected <dir> <N>");
        }

        if (start < 0)
        {
            throw new ArgumentException("--start must be >= 0");
        }

        new V3Generator(new GenerateOptions(Path.GetFullPath(positional[0]), count, seed, start, jobs, maxNodes))
            .Run(Console.Out);
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("Depot.Bench: " + message);
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
