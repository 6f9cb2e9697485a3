using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Depot.Specs;

namespace Depot.Bench;

/// <summary>A microarchitecture as Spack 1.x writes it in <c>arch.target</c>: a string for generic targets, else an
/// object.</summary>
internal sealed record TargetInfo(string Name, string? Vendor = null, string[]? Features = null,
    string[]? Parents = null)
{
    public bool IsGeneric => Vendor is null;
}

/// <summary>One variant a synthetic package declares.</summary>
internal enum VariantKind
{
    Boolean,
    Single,
    Multi,
}

internal sealed record VariantDef(string Name, VariantKind Kind, string[] Values);

/// <summary>What a synthetic package looks like: build system, variants, versions. Stable per name (not per
/// seed).</summary>
internal sealed record PackageDef(string Name, string Namespace, string BuildSystem, VariantDef[] Variants,
    string[] Versions, string[] Languages);

/// <summary>The fixed vocabulary of the generator: package names, targets, operating systems and compilers.</summary>
internal static class Catalog
{
    public const string Platform = "linux";

    public static readonly string[] FlagNames = ["cflags", "cppflags", "cxxflags", "fflags", "ldflags", "ldlibs"];

    /// <summary>Names the shared (external/compiler) nodes use; generated packages never take them.</summary>
    public static readonly HashSet<string> SharedNames = new(StringComparer.Ordinal)
    {
        "glibc", "gcc", "gcc-runtime", "compiler-wrapper", "llvm", "intel-oneapi-compilers", "gmake", "cmake",
        "pkgconf", "perl", "python",
    };

    public static readonly (TargetInfo Item, int Weight)[] Targets =
    [
        (new TargetInfo("x86_64"), 30),
        (new TargetInfo("x86_64_v2"), 8),
        (new TargetInfo("x86_64_v3"), 25),
        (new TargetInfo("x86_64_v4"), 5),
        (new TargetInfo("zen2", "AuthenticAMD",
            ["abm", "aes", "avx", "avx2", "bmi1", "bmi2", "clflushopt", "clwb", "clzero", "cx16", "f16c", "fma",
             "fsgsbase", "mmx", "movbe", "pclmulqdq", "popcnt", "rdseed", "sha", "sse", "sse2", "sse4_1", "sse4_2",
             "sse4a", "ssse3", "xsavec", "xsaveopt"],
            ["zen"]), 12),
        (new TargetInfo("zen3", "AuthenticAMD",
            ["abm", "aes", "avx", "avx2", "bmi1", "bmi2", "clflushopt", "clwb", "clzero", "cx16", "f16c", "fma",
             "fsgsbase", "mmx", "movbe", "pclmulqdq", "pku", "popcnt", "rdseed", "sha", "sse", "sse2", "sse4_1",
             "sse4_2", "sse4a", "ssse3", "vaes", "vpclmulqdq", "xsavec", "xsaveopt"],
            ["zen2"]), 8),
        (new TargetInfo("skylake_avx512", "GenuineIntel",
            ["adx", "aes", "avx", "avx2", "avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl", "bmi1", "bmi2",
             "clflushopt", "clwb", "f16c", "fma", "mmx", "movbe", "pclmulqdq", "popcnt", "rdrand", "rdseed", "sse",
             "sse2", "sse4_1", "sse4_2", "ssse3", "xsavec", "xsaveopt"],
            ["skylake", "x86_64_v4"]), 6),
        (new TargetInfo("icelake", "GenuineIntel",
            ["adx", "aes", "avx", "avx2", "avx512_bitalg", "avx512_vbmi2", "avx512_vnni", "avx512_vpopcntdq",
             "avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512ifma", "avx512vbmi", "avx512vl", "bmi1", "bmi2",
             "clflushopt", "clwb", "f16c", "fma", "gfni", "mmx", "movbe", "pclmulqdq", "popcnt", "rdpid", "rdrand",
             "rdseed", "sha_ni", "sse", "sse2", "sse4_1", "sse4_2", "ssse3", "vaes", "vpclmulqdq", "xsavec",
             "xsaveopt"],
            ["cascadelake", "cannonlake"]), 6),
    ];

    /// <summary>The operating systems, each with its shared nodes' versions and compilers (weights: share of
    /// specs).</summary>
    public static readonly (OsInfo Item, int Weight)[] OperatingSystems =
    [
        (new OsInfo("ubuntu24.04", Glibc: "2.39", Gcc: "13.3.0", Gmake: "4.3", Cmake: "3.28.3", Pkgconf: "1.8.1",
            Perl: "5.38.2", Python: "3.12.3", AltCompiler: "llvm", AltCompilerVersion: "18.1.3", AltPrefix: "/usr",
            AltCompilers: [("c", "/usr/bin/clang"), ("cxx", "/usr/bin/clang++")]), 60),
        (new OsInfo("rhel9", Glibc: "2.34", Gcc: "11.5.0", Gmake: "4.3", Cmake: "3.26.5", Pkgconf: "1.7.3",
            Perl: "5.32.1", Python: "3.9.21", AltCompiler: "intel-oneapi-compilers", AltCompilerVersion: "2025.0.4",
            AltPrefix: "/opt/intel/oneapi",
            AltCompilers: [("c", "/opt/intel/oneapi/compiler/2025.0/bin/icx"),
                ("cxx", "/opt/intel/oneapi/compiler/2025.0/bin/icpx"),
                ("fortran", "/opt/intel/oneapi/compiler/2025.0/bin/ifx")]), 40),
    ];

    /// <summary>Target of the shared external/compiler nodes.</summary>
    public static readonly TargetInfo SharedTarget = new("x86_64");

    private static readonly string[] RealStems =
    [
        "zlib-ng", "bzip2", "xz", "zstd", "lz4", "openssl", "curl", "libxml2", "libiconv", "ncurses", "readline",
        "sqlite", "expat", "gettext", "pcre2", "libffi", "gdbm", "berkeley-db", "libevent", "libuv", "hwloc", "numactl",
        "libpciaccess", "openmpi", "mpich", "hdf5", "netcdf-c", "netcdf-fortran", "fftw", "openblas", "netlib-lapack",
        "netlib-scalapack", "petsc", "hypre", "superlu-dist", "metis", "parmetis", "boost", "eigen", "gsl", "yaml-cpp",
        "nlohmann-json", "fmt", "spdlog", "googletest", "catch2", "libpng", "libjpeg-turbo", "libtiff", "giflib",
        "freetype", "fontconfig", "harfbuzz", "cairo", "pixman", "glib", "libx11", "libxcb", "mesa", "libunwind",
        "elfutils", "binutils", "autoconf", "automake", "libtool", "m4", "bison", "flex", "ninja", "meson", "git",
        "tar", "gzip", "unzip", "krb5", "libssh2", "nghttp2", "util-linux-uuid", "libedit", "libyaml", "protobuf",
        "abseil-cpp", "grpc", "re2", "snappy", "leveldb", "rocksdb", "arrow", "parquet-cpp", "adios2", "kokkos", "raja",
        "umpire", "camp", "trilinos", "sundials", "mfem", "dealii", "gromacs", "lammps", "quantum-espresso", "cp2k",
        "nwchem", "vtk", "paraview", "visit", "qt-base", "tk", "tcl",
    ];

    private static readonly string[] PyStems =
    [
        "numpy", "scipy", "pandas", "matplotlib", "setuptools", "wheel", "pip", "cython", "pybind11", "six", "requests",
        "urllib3", "idna", "certifi", "charset-normalizer", "packaging", "pyparsing", "python-dateutil", "pytz",
        "jinja2", "markupsafe", "pyyaml", "h5py", "mpi4py", "netcdf4", "cftime", "pillow", "kiwisolver", "cycler",
        "fonttools", "contourpy", "scikit-learn", "joblib", "threadpoolctl", "torch", "sympy", "mpmath", "networkx",
        "pytest", "pluggy",
    ];

    private static readonly string[] Syllables =
    [
        "al", "bor", "cen", "dax", "el", "fyr", "gan", "hol", "ix", "jun", "kel", "lum", "mor", "nex", "ob", "pra",
        "quil", "ros", "sab", "tor", "ul", "ven", "wex", "yol", "zan",
    ];

    private static readonly string[] BoolVariantNames =
    [
        "shared", "pic", "mpi", "openmp", "cuda", "rocm", "ipo", "static", "docs", "fortran", "threads", "tests",
        "examples", "python", "zlib", "ssl", "debug", "lto",
    ];

    private static readonly string[] Languages = ["c", "cxx", "fortran"];

    /// <summary>About 400 package names: real Spack names, <c>py-</c> names and pronounceable invented ones.</summary>
    public static readonly string[] PackageNames = BuildNames();

    private static readonly Dictionary<string, PackageDef> Packages =
        PackageNames.ToDictionary(n => n, MakePackage, StringComparer.Ordinal);

    public static PackageDef Package(string name) => Packages[name];

    private static string[] BuildNames()
    {
        var names = new List<string>(RealStems);
        names.AddRange(PyStems.Select(s => "py-" + s));
        var rng = Rng.ForText("depot-bench-names");
        var seen = new HashSet<string>(names, StringComparer.Ordinal);
        string[] prefixes = ["", "", "", "lib", "py-", "r-", "perl-"];
        while (names.Count < 400)
        {
            var stem = rng.Pick(Syllables) + rng.Pick(Syllables) + (rng.Chance(0.3) ? rng.Pick(Syllables) : "");
            var name = rng.Pick(prefixes) + stem
                + (rng.Chance(0.15) ? "-" + rng.Pick(["utils", "core", "tools", "io", "x"]) : "");
            if (!SharedNames.Contains(name) && seen.Add(name))
            {
                names.Add(name);
            }
        }

        return [.. names];
    }

    private static PackageDef MakePackage(string name)
    {
        var rng = Rng.ForText("package:" + name);
        var buildSystem = name.StartsWith("py-", StringComparison.Ordinal) ? "python_pip"
            : name.StartsWith("perl-", StringComparison.Ordinal) ? "perl"
            : name.StartsWith("r-", StringComparison.Ordinal) ? "generic"
            : rng.Weighted<string>([("cmake", 35), ("autotools", 25), ("makefile", 10), ("generic", 10),
                ("meson", 10)]);
        var variants = new List<VariantDef> { new("build_system", VariantKind.Single, [buildSystem]) };
        var bools = BoolVariantNames.OrderBy(_ => rng.NextULong()).Take(rng.Next(5)).ToList();
        variants.AddRange(bools.Select(b => new VariantDef(b, VariantKind.Boolean, [])));
        if (buildSystem == "cmake")
        {
            variants.Add(new VariantDef("build_type", VariantKind.Single,
                ["Release", "RelWithDebInfo", "Debug", "MinSizeRel"]));
            variants.Add(new VariantDef("generator", VariantKind.Single, ["make", "ninja"]));
        }

        if (rng.Chance(0.2))
        {
            variants.Add(new VariantDef("libs", VariantKind.Multi, ["shared", "static"]));
        }

        if (bools.Contains("cuda"))
        {
            variants.Add(new VariantDef("cuda_arch", VariantKind.Multi, ["70", "80", "90", "none"]));
        }

        if (rng.Chance(0.1))
        {
            variants.Add(new VariantDef("precision", VariantKind.Multi, ["double", "float", "long_double", "quad"]));
        }

        variants.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        var versions = new List<string>();
        var count = 1 + rng.Next(4);
        var dateStyle = rng.Chance(0.1);
        for (var i = 0; i < count; i++)
        {
            versions.Add(dateStyle
                ? string.Create(CultureInfo.InvariantCulture,
                    $"{2019 + rng.Next(7)}.{1 + rng.Next(12):00}.{rng.Next(3)}")
                : string.Create(CultureInfo.InvariantCulture, $"{rng.Next(13)}.{rng.Next(21)}.{rng.Next(10)}"));
        }

        string[] languages = buildSystem is "python_pip" or "perl" or "generic" && rng.Chance(0.5) ? []
            : rng.Weighted<string[]>([(["c"], 35), (["c", "cxx"], 40), (["cxx"], 10), (["c", "cxx", "fortran"], 10),
                (["fortran"], 5)]);
        var ns = rng.Chance(0.05) ? "site" : "builtin";
        return new PackageDef(name, ns, buildSystem, [.. variants], [.. versions.Distinct(StringComparer.Ordinal)],
            languages);
    }

    /// <summary>Spack's recipe hash: base32 (lower case, padded) of a sha256: 56 characters ending in
    /// <c>====</c>.</summary>
    public static string PackageHash(string name, string version) =>
        Base32.EncodeLower(SHA256.HashData(Encoding.UTF8.GetBytes($"recipe:{name}@{version}"))) + "====";

    public static string PatchHash(string name, string version, int i) =>
        Convert.ToHexStringLower(SHA256.HashData(
            Encoding.UTF8.GetBytes($"patch:{name}@{version}:{i.ToString(CultureInfo.InvariantCulture)}")));

    public static IReadOnlyList<string> LanguageOrder => Languages;
}

/// <summary>An operating system with the versions of its shared nodes.</summary>
internal sealed record OsInfo(string Name, string Glibc, string Gcc, string Gmake, string Cmake, string Pkgconf,
    string Perl, string Python, string AltCompiler, string AltCompilerVersion, string AltPrefix,
    (string Lang, string Path)[] AltCompilers);
