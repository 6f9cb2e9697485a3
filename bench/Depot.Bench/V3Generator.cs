using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Depot.Formats;
using Depot.Layout;
using Depot.Specs;
using Microsoft.Win32.SafeHandles;

namespace Depot.Bench;

/// <summary>Options of <see cref="V3Generator"/>.</summary>
/// <param name="Directory">Mirror root.</param>
/// <param name="Count">Specs (entries) to add.</param>
/// <param name="Seed">Stream seed.</param>
/// <param name="Start">Number of the first spec: spec i uses the random stream (Seed, i).</param>
/// <param name="Jobs">Parallel writers.</param>
/// <param name="MaxDagNodes">Cap on nodes per spec DAG.</param>
internal sealed record GenerateOptions(string Directory, int Count, long Seed, int Start, int Jobs,
    int MaxDagNodes = 60);

/// <summary>
/// Writes a synthetic Spack 1.x build cache (layout v3): per spec a gzip'd tarball blob, a gzip'd spec blob and a
/// manifest, plus <c>v3/layout.json</c>. No index: <c>depot index</c> writes that. Every node hash is the real DAG
/// hash, so Spack and Depot can verify them.
/// </summary>
internal sealed partial class V3Generator
{
    private static readonly byte[] SpecBlobHead = "{\"spec\":{\"_meta\":{\"version\":5},\"nodes\":["u8.ToArray();
    private static readonly byte[] SpecBlobTail = "]},\"buildcache_layout_version\":2}"u8.ToArray();

    private static readonly (int Item, int Weight)[] DependencyCounts = [(0, 15), (1, 25), (2, 25), (3, 15), (4, 12),
        (5, 8)];

    private static readonly (string[] Item, int Weight)[] EdgeTypes =
    [
        (["build", "link"], 45), (["link"], 20), (["build", "link", "run"], 15), (["build"], 10), (["run"], 5),
        (["build", "run"], 5),
    ];

    private static readonly string[] EdgeVirtuals = ["mpi", "blas", "lapack", "zlib-api", "jpeg", "gl", "fftw-api",
        "uuid"];

    private readonly GenerateOptions options;
    private readonly SpecGraph graph = new();
    private readonly Dictionary<string, SharedNodes> shared = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Os, string Target), List<int>> pools = [];
    private readonly HashSet<string> existingEntries = new(StringComparer.Ordinal);
    private readonly List<int> generated = [];
    private readonly ConcurrentDictionary<string, bool> manifestDirs = new(StringComparer.Ordinal);
    private readonly long[] phaseTicks = new long[5];
    private int loadedSpecs;
    private int rerolls;

    public V3Generator(GenerateOptions options) => this.options = options;

    public void Run(TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        foreach (var (os, _) in Catalog.OperatingSystems)
        {
            shared[os.Name] = BuildShared(os);
        }

        LoadExisting();
        var loadTime = clock.Elapsed;

        // Generation is sequential (each spec may depend on earlier ones); writing runs beside it on other threads.
        // Writers only read nodes that already exist, and the node list never reallocates (capacity reserved).
        graph.Nodes.Capacity = graph.Nodes.Count + options.Count + 1;
        using var queue = new BlockingCollection<int>(boundedCapacity: 2048);
        using var stop = new CancellationTokenSource();
        var graphTime = TimeSpan.Zero;
        var producer = Task.Run(() =>
        {
            try
            {
                for (var i = 0; i < options.Count; i++)
                {
                    var id = GenerateSpec(options.Start + i);
                    generated.Add(id);
                    queue.Add(id, stop.Token);
                }

                graphTime = clock.Elapsed;
            }
            finally
            {
                queue.CompleteAdding();
            }
        });
        long bytes;
        try
        {
            bytes = WriteAll(queue);
        }
        catch
        {
            stop.Cancel(); // a writer failed: do not leave the producer blocked on a full queue
            throw;
        }

        producer.GetAwaiter().GetResult();
        var total = clock.Elapsed;

        if (Environment.GetEnvironmentVariable("DEPOT_BENCH_PROFILE") == "1")
        {
            log.WriteLine("  thread-time: tarball {0:0.00} s, spec json {1:0.00} s, spec gzip {2:0.00} s, blob writes "
                + "{3:0.00} s, manifest {4:0.00} s",
                phaseTicks.Select(t => (object)(t / (double)Stopwatch.Frequency)).ToArray());
        }

        var sizes = generated.Select(id => graph[id].Closure.Length).ToList();
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"generate-v3: {options.Count} specs (#{options.Start}..#{options.Start + options.Count - 1}, seed "
            + $"{options.Seed}) into {options.Directory}"));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  nodes: {graph.Nodes.Count} distinct ({shared.Values.Sum(s => s.All.Count)} shared "
            + $"externals/compilers), DAG size min/mean/max {sizes.DefaultIfEmpty(0).Min()}/"
            + $"{(sizes.Count == 0 ? 0 : sizes.Average()):0.0}/{sizes.DefaultIfEmpty(0).Max()}, "
            + $"{rerolls} re-rolls for hash collisions"));
        if (existingEntries.Count > 0)
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  existing mirror: {existingEntries.Count} entries, {loadedSpecs} loaded as dependency candidates "
                + $"({loadTime.TotalSeconds:0.00} s)"));
        }

        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  wrote {bytes / 1024.0 / 1024.0:0.0} MiB; graph {(graphTime - loadTime).TotalSeconds:0.00} s (writing "
            + $"alongside), total {total.TotalSeconds:0.00} s"));
    }

    private sealed record SharedNodes(int Glibc, int Gcc, int GccRuntime, int Wrapper, int AltCompiler, int Gmake,
        int Cmake, int Pkgconf, int Perl, int Python, OsInfo Os)
    {
        public List<int> All => [Glibc, Gcc, GccRuntime, Wrapper, AltCompiler, Gmake, Cmake, Pkgconf, Perl, Python];
    }

    private SharedNodes BuildShared(OsInfo os)
    {
        int External(string name, string version, string buildSystem, string path, (string, string)[] compilers,
            params (string Name, object Value)[] variants)
        {
            var d = new NodeDraft
            {
                Name = name,
                Version = version,
                Os = os.Name,
                Target = Catalog.SharedTarget,
                External = new ExternalInfo(path, compilers),
            };
            d.Variants.Add(("build_system", buildSystem));
            d.Variants.AddRange(variants);
            d.Variants.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return Finish(d, external: true);
        }

        var glibc = External("glibc", os.Glibc, "autotools", "/usr", []);
        var gcc = External("gcc", os.Gcc, "autotools", "/usr",
            [("c", "/usr/bin/gcc"), ("cxx", "/usr/bin/g++"), ("fortran", "/usr/bin/gfortran")],
            ("binutils", false), ("bootstrap", true), ("build_type", "RelWithDebInfo"), ("graphite", false),
            ("languages", new[] { "c", "c++", "fortran" }), ("mold", false), ("nvptx", false), ("piclibs", false),
            ("profiled", false), ("strip", false));
        var alt = os.AltCompiler == "llvm"
            ? External("llvm", os.AltCompilerVersion, "cmake", os.AltPrefix, os.AltCompilers,
                ("build_type", "Release"), ("clang", true), ("flang", false), ("generator", "ninja"), ("lld", true),
                ("lldb", false), ("targets", new[] { "all" }))
            : External(os.AltCompiler, os.AltCompilerVersion, "generic", os.AltPrefix, os.AltCompilers,
                ("envmods", true));
        var gmake = External("gmake", os.Gmake, "generic", "/usr", [], ("guile", false));
        var cmake = External("cmake", os.Cmake, "generic", "/usr", [], ("build_type", "Release"), ("doc", false),
            ("ncurses", true), ("qtgui", false));
        var pkgconf = External("pkgconf", os.Pkgconf, "autotools", "/usr", []);
        var perl = External("perl", os.Perl, "generic", "/usr", [], ("cpanm", false), ("opcode", true), ("open", true),
            ("shared", true), ("threads", true));
        var python = External("python", os.Python, "generic", "/usr", [], ("bz2", true), ("ctypes", true),
            ("dbm", true), ("debug", false), ("libxml2", true), ("lzma", true), ("optimizations", false),
            ("pic", true), ("pyexpat", true), ("pythoncmd", true), ("readline", true), ("shared", true),
            ("sqlite3", true), ("ssl", true), ("tkinter", false), ("uuid", true), ("zlib", true));

        var wrapperDraft = new NodeDraft
        {
            Name = "compiler-wrapper",
            Version = "1.0",
            Os = os.Name,
            Target = Catalog.SharedTarget,
        };
        wrapperDraft.Variants.Add(("build_system", "generic"));
        var wrapper = Finish(wrapperDraft, external: false);

        var runtime = new NodeDraft
        {
            Name = "gcc-runtime",
            Version = os.Gcc,
            Os = os.Name,
            Target = Catalog.SharedTarget,
        };
        runtime.Variants.Add(("build_system", "generic"));
        runtime.Dependencies.Add(new Edge(gcc, ["build"], []));
        runtime.Dependencies.Add(new Edge(glibc, ["link"], ["libc"]));
        var gccRuntime = Finish(runtime, external: false);
        return new SharedNodes(glibc, gcc, gccRuntime, wrapper, alt, gmake, cmake, pkgconf, perl, python, os);
    }

    /// <summary>Hashes and registers a node (dependencies sorted by name, as Spack writes them).</summary>
    private int Finish(NodeDraft d, bool external)
    {
        d.Dependencies.Sort((a, b) => string.CompareOrdinal(graph[a.NodeId].Name, graph[b.NodeId].Name));
        var (hash, json) = SpecGraph.Hash(graph.Serialize(d));
        return graph.Add(d.Name, d.Version, d.Os, d.Target.Name, hash, json, [.. d.Dependencies.Select(e => e.NodeId)],
            external);
    }

    private int GenerateSpec(int index)
    {
        var rng = Rng.For(options.Seed, index);
        for (var attempt = 0; ; attempt++)
        {
            var d = Draft(rng);
            d.Dependencies.Sort((a, b) => string.CompareOrdinal(graph[a.NodeId].Name, graph[b.NodeId].Name));
            var (hash, json) = SpecGraph.Hash(graph.Serialize(d));
            if (graph.ContainsHash(hash) || existingEntries.Contains(hash))
            {
                rerolls++;
                if (attempt > 1000)
                {
                    throw new InvalidOperationException($"spec #{index}: cannot find an unused hash");
                }

                continue;
            }

            var id = graph.Add(d.Name, d.Version, d.Os, d.Target.Name, hash, json,
                [.. d.Dependencies.Select(e => e.NodeId)], false);
            Pool(d.Os, d.Target.Name).Add(id);
            return id;
        }
    }

    private List<int> Pool(string os, string target)
    {
        if (!pools.TryGetValue((os, target), out var pool))
        {
            pool = [];
            pools[(os, target)] = pool;
        }

        return pool;
    }

    private NodeDraft Draft(Rng rng)
    {
        var os = rng.Weighted(Catalog.OperatingSystems);
        var target = rng.Weighted(Catalog.Targets);
        var sh = shared[os.Name];
        var pkg = Catalog.Package(rng.Pick(Catalog.PackageNames));
        var version = rng.Chance(0.005) ? "develop"
            : rng.Chance(0.005) ? $"git.{rng.Hex(40)}=main"
            : rng.Pick(pkg.Versions);
        var d = new NodeDraft
        {
            Name = pkg.Name,
            Version = version,
            Os = os.Name,
            Target = target,
            Namespace = pkg.Namespace,
        };

        foreach (var v in pkg.Variants)
        {
            object value = v.Kind switch
            {
                VariantKind.Boolean => rng.Chance(0.5),
                VariantKind.Single when v.Values.Length == 1 => v.Values[0],
                VariantKind.Single => rng.Chance(0.6) ? v.Values[0] : rng.Pick(v.Values),
                _ => MultiValue(rng, v.Values),
            };
            d.Variants.Add((v.Name, value));
        }

        // Rare user flags, some with characters Python's json escapes (quotes, backslash, non-ASCII).
        if (rng.Chance(0.03))
        {
            d.Flags["cflags"] = rng.Chance(0.5) ? ["-O3"] : ["-O2", "-g"];
        }

        if (rng.Chance(0.003))
        {
            d.Flags["cppflags"] = ["-DGREETING=\"h\u00e9llo <w> & 'x'\"", "-DWIN=C:\\tmp"];
        }

        if (rng.Chance(0.05))
        {
            var patches = Enumerable.Range(0, 1 + rng.Next(3)).Select(i => Catalog.PatchHash(pkg.Name, version, i))
                .ToArray();
            d.Patches = patches;
            d.Variants.Add(("patches", patches.Order(StringComparer.Ordinal).ToArray()));
            d.Variants.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        }

        // Compiler and runtime edges (Spack 1.x: compilers are build dependencies providing language virtuals).
        var merged = new Dictionary<int, int>();
        void Use(int id)
        {
            foreach (var c in graph[id].Closure)
            {
                merged[graph[c].NameId] = c;
            }
        }

        var languages = pkg.Languages;
        if (languages.Length > 0)
        {
            var useAlt = rng.Chance(0.2) && (os.AltCompiler != "llvm" || !languages.Contains("fortran"));
            var compiler = useAlt ? sh.AltCompiler : sh.Gcc;
            d.Dependencies.Add(new Edge(compiler, ["build"], [.. languages], Direct: rng.Chance(0.3)));
            d.Dependencies.Add(new Edge(sh.Wrapper, ["build"], []));
            if (!useAlt)
            {
                d.Dependencies.Add(new Edge(sh.GccRuntime, ["link"], []));
            }
        }

        d.Dependencies.Add(new Edge(sh.Glibc, ["link"], ["libc"]));
        switch (pkg.BuildSystem)
        {
            case "cmake":
                d.Dependencies.Add(new Edge(sh.Cmake, ["build"], []));
                d.Dependencies.Add(new Edge(sh.Gmake, ["build"], []));
                break;
            case "autotools":
                d.Dependencies.Add(new Edge(sh.Gmake, ["build"], []));
                if (rng.Chance(0.5))
                {
                    d.Dependencies.Add(new Edge(sh.Pkgconf, ["build"], ["pkgconfig"]));
                }

                break;
            case "makefile":
                d.Dependencies.Add(new Edge(sh.Gmake, ["build"], []));
                break;
            case "meson":
                d.Dependencies.Add(new Edge(sh.Pkgconf, ["build"], ["pkgconfig"]));
                d.Dependencies.Add(new Edge(sh.Python, ["build"], []));
                break;
            case "python_pip":
                d.Dependencies.Add(new Edge(sh.Python, ["build", "link", "run"], ["python"]));
                break;
            case "perl":
                d.Dependencies.Add(new Edge(sh.Perl, ["build", "run"], []));
                break;
            default:
                break;
        }

        foreach (var e in d.Dependencies)
        {
            Use(e.NodeId);
        }

        // 0-5 edges to earlier specs of the same OS and target, keeping one node per package name in the DAG.
        var want = rng.Weighted(DependencyCounts);
        var pool = Pool(os.Name, target.Name);
        var selfName = graph.NameId(pkg.Name);
        var chosen = new HashSet<int>();
        for (var tries = 0; chosen.Count < want && pool.Count > 0 && tries < want * 8; tries++)
        {
            var candidate = pool[rng.Next(pool.Count)];
            var node = graph[candidate];
            if (!node.Unified || chosen.Contains(candidate) || merged.ContainsKey(node.NameId)
                && merged[node.NameId] != candidate)
            {
                continue;
            }

            var added = 0;
            var ok = true;
            foreach (var c in node.Closure)
            {
                var nameId = graph[c].NameId;
                if (nameId == selfName || merged.TryGetValue(nameId, out var other) && other != c)
                {
                    ok = false;
                    break;
                }

                added += merged.ContainsKey(nameId) ? 0 : 1;
            }

            if (!ok || merged.Count + added + 1 > options.MaxDagNodes)
            {
                continue;
            }

            Use(candidate);
            chosen.Add(candidate);
            var virtuals = rng.Chance(0.05) ? new[] { rng.Pick(EdgeVirtuals) } : [];
            d.Dependencies.Add(new Edge(candidate, rng.Weighted(EdgeTypes), virtuals));
        }

        return d;
    }

    private static string[] MultiValue(Rng rng, string[] values)
    {
        var picked = values.Where(_ => rng.Chance(0.4)).ToList();
        if (picked.Count == 0)
        {
            picked.Add(values[0]);
        }

        return [.. picked.Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Reads the entries already in the mirror: their hashes must not be produced again, and a sample of their DAGs
    /// joins the dependency pools so that added specs depend on earlier ones.
    /// </summary>
    private void LoadExisting()
    {
        var specDir = Path.Combine(options.Directory, "v3", "manifests", "spec");
        if (!Directory.Exists(specDir))
        {
            return;
        }

        var manifests = Directory.EnumerateFiles(specDir, "*" + BuildCacheV3.SpecManifestSuffix,
            SearchOption.AllDirectories).ToList();
        manifests.Sort(StringComparer.Ordinal);
        foreach (var m in manifests)
        {
            if (PathNames.HashFromEntryName(Path.GetFileName(m)) is { } hash)
            {
                existingEntries.Add(hash);
            }
        }

        var rng = Rng.For(options.Seed, -1, 0x5eed);
        var sample = manifests.Count <= 400 ? manifests : [.. manifests.OrderBy(_ => rng.NextULong()).Take(400)];
        foreach (var path in sample)
        {
            try
            {
                var manifest = BuildCacheManifest.Parse(File.ReadAllBytes(path), path);
                if (manifest.Find(MediaTypes.SpecPrefix, prefix: true) is not { } record)
                {
                    continue;
                }

                var blobPath = Path.Combine(options.Directory, record.BlobKey);
                var spec = SpecFile.Parse(File.ReadAllBytes(blobPath), blobPath);
                if (spec.FormatVersion != 5)
                {
                    continue;
                }

                var root = Register(spec, spec.Root);
                if (root is { } id && graph[id].Unified)
                {
                    Pool(spec.Root.PlatformOs, spec.Root.Target).Add(id);
                    loadedSpecs++;
                }
            }
            catch (Exception e) when (e is DepotException or IOException)
            {
                // Unreadable entries are simply not used as dependencies.
            }
        }
    }

    private int? Register(SpecFile spec, SpecNode node)
    {
        if (graph.FindByHash(node.Hash) is { } known)
        {
            return known;
        }

        var deps = new List<int>();
        foreach (var e in node.Dependencies)
        {
            if (spec.FindByHash(e.Hash) is not { } child || Register(spec, child) is not { } childId)
            {
                return null;
            }

            deps.Add(childId);
        }

        return graph.Add(node.Name, node.Version, node.PlatformOs, node.Target, node.Hash,
            PythonJsonWriter.ToBytes(node.Json), [.. deps], node.IsExternal);
    }
}
