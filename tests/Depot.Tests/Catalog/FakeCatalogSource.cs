using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Depot.Catalog;

namespace Depot.Tests.Catalog;

/// <summary>
/// An <see cref="ICatalogSource"/> over specs held in memory, for the pages, the server's page endpoints and the
/// export, with the search rules of the contract (name prefix, name@version prefix, variants, /hash prefix).
/// </summary>
internal sealed class FakeCatalogSource : ICatalogSource
{
    private readonly List<SpecRow> rows;
    private readonly Dictionary<string, List<(string Hash, string Types)>> dependencies;
    private readonly Dictionary<string, SignatureInfo> signatures = new(StringComparer.Ordinal);

    public FakeCatalogSource(string name, bool isPublic, IEnumerable<SpecRow> rows,
        Dictionary<string, List<(string Hash, string Types)>>? dependencies = null)
    {
        Name = name;
        IsPublic = isPublic;
        this.rows = rows.OrderBy(r => r.Name, StringComparer.Ordinal)
            .ThenByDescending(r => r.Version, StringComparer.Ordinal).ThenBy(r => r.Hash, StringComparer.Ordinal)
            .ToList();
        this.dependencies = dependencies ?? [];
        byHash = this.rows.ToDictionary(r => r.Hash, StringComparer.Ordinal);
        byName = this.rows.GroupBy(r => r.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        dependents = this.dependencies.SelectMany(d => d.Value.Select(x => (Parent: d.Key, Child: x.Hash, x.Types)))
            .GroupBy(x => x.Child, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => (x.Parent, x.Types)).ToList(), StringComparer.Ordinal);
    }

    private readonly Dictionary<string, SpecRow> byHash;
    private readonly Dictionary<string, List<SpecRow>> byName;
    private readonly Dictionary<string, List<(string Parent, string Types)>> dependents;

    public string Name { get; }

    public bool IsPublic { get; }

    public IReadOnlyList<SpecRow> Rows => rows;

    /// <summary>Keys the cache publishes.</summary>
    public List<CatalogKey> Keys { get; } = [];

    /// <summary>Hashes that are not in the cache but appear as dependencies (drawn, not linked).</summary>
    public Dictionary<string, (string Name, string Version)> External { get; } = new(StringComparer.Ordinal);

    public static readonly DateTimeOffset Pushed = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A 32-character base32 hash derived from <paramref name="seed"/> (as Spack's alphabet).</summary>
    public static string HashOf(string seed)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        var text = new StringBuilder(32);
        for (var i = 0; i < 32; i++)
        {
            text.Append(alphabet[bytes[i] % 32]);
        }

        return text.ToString();
    }

    public static SpecRow Row(string name, string version, string variants = "+shared",
        string architecture = "linux-ubuntu22.04-x86_64_v3", string compiler = "gcc@12.2.0", string? seed = null)
    {
        var parts = architecture.Split('-');
        return new SpecRow(HashOf(seed ?? name + "@" + version + variants + architecture + compiler), name, version,
            "builtin", architecture, parts[0], parts[1], parts[2], compiler, variants, 3);
    }

    /// <summary>
    /// zlib (two versions, two compilers), openssl → zlib, cmake → openssl, zlib, and a dependency not in the cache;
    /// plus a package whose name, version and variants are hostile markup.
    /// </summary>
    public static FakeCatalogSource Sample(string name = "main", bool isPublic = true)
    {
        var zlib = Row("zlib", "1.3.1");
        var zlibClang = Row("zlib", "1.3.1", compiler: "clang@17.0.0");
        var zlibOld = Row("zlib", "1.2.13", "~shared");
        var openssl = Row("openssl", "3.1.4", "+shared certs=mozilla");
        var cmake = Row("cmake", "3.27.9", "~doc build_system=generic");
        var hostile = new SpecRow(HashOf("hostile"), "evil<script>alert(1)</script>", "1.0\"onmouseover=\"x",
            "builtin", "linux-ubuntu22.04-x86_64_v3", "linux", "ubuntu22.04", "x86_64_v3", "gcc@12.2.0",
            "+<b>bold</b> ~'quote'", 3);
        var ncurses = HashOf("ncurses-external");
        var source = new FakeCatalogSource(name, isPublic, [zlib, zlibClang, zlibOld, openssl, cmake, hostile],
            new Dictionary<string, List<(string, string)>>(StringComparer.Ordinal)
            {
                [openssl.Hash] = [(zlib.Hash, "build,link")],
                [cmake.Hash] = [(openssl.Hash, "build,link"), (zlib.Hash, "link"), (ncurses, "build,link")],
            });
        source.External[ncurses] = ("ncurses", "6.4");
        source.signatures[zlib.Hash] = new SignatureInfo(SignatureState.Trusted,
            "0123456789ABCDEF0123456789ABCDEF01234567", "Demo <demo@example.invalid>", Pushed);
        source.signatures[openssl.Hash] = new SignatureInfo(SignatureState.Untrusted,
            "FEDCBA9876543210FEDCBA9876543210FEDCBA98", "Someone <x@example.invalid>", Pushed);
        source.signatures[zlibOld.Hash] = new SignatureInfo(SignatureState.Invalid, null, null, null);
        source.Keys.Add(new CatalogKey("0123456789ABCDEF0123456789ABCDEF01234567", "Demo <demo@example.invalid>",
            Pushed, "v3/layout/_pgp/0123456789ABCDEF0123456789ABCDEF01234567.pub", true));
        return source;
    }

    /// <summary><paramref name="count"/> specs over <c>count / 10</c> packages, each (after the first twenty) depending
    /// on three of the first twenty.</summary>
    public static FakeCatalogSource Synthetic(string name, int count)
    {
        var list = new List<SpecRow>(count);
        var deps = new Dictionary<string, List<(string, string)>>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var row = Row($"pkg{i / 10:D5}", $"1.{i % 10}", i % 2 == 0 ? "+shared" : "~shared",
                compiler: i % 3 == 0 ? "clang@17.0.0" : "gcc@12.2.0", seed: "synthetic" + i);
            if (i >= 20)
            {
                // Small DAGs, as real ones: three of the first twenty specs (the "base libraries"), which have none.
                deps[row.Hash] = [(list[i % 20].Hash, "build,link"), (list[(i + 7) % 20].Hash, "link"),
                    (list[(i + 13) % 20].Hash, "run")];
            }

            list.Add(row);
        }

        return new FakeCatalogSource(name, true, list, deps);
    }

    public Task<CacheSummary> GetSummaryAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new CacheSummary(Name, IsPublic, rows.Count, rows.Select(r => r.Name).Distinct().Count(),
            123_456_789, rows.Count == 0 ? null : Pushed, [3]));

    public Task<SearchResult> SearchAsync(CatalogQuery query, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var terms = query.Text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var byText = rows.Where(r => terms.All(t => Matches(r, t))).ToList();
        var matched = byText.Where(r => (query.Architecture is null || r.Architecture == query.Architecture)
            && (query.Os is null || r.Os == query.Os) && (query.Compiler is null || r.Compiler == query.Compiler))
            .ToList();
        return Task.FromResult(new SearchResult(matched.Count, matched.Skip(query.Offset).Take(query.Limit).ToList(),
            Facet(byText, r => r.Architecture), Facet(byText, r => r.Os), Facet(byText, r => r.Compiler),
            clock.Elapsed));
    }

    public Task<PackageListing> GetPackagesAsync(int offset, int limit, CancellationToken cancellationToken = default)
    {
        var packages = rows.GroupBy(r => r.Name).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new PackageRow(g.Key, g.Count(), g.Select(r => r.Version).Distinct().ToList())).ToList();
        return Task.FromResult(new PackageListing(packages.Count, packages.Skip(offset).Take(limit).ToList()));
    }

    public Task<PackageDetail?> GetPackageAsync(string name, CancellationToken cancellationToken = default)
    {
        return Task.FromResult(byName.TryGetValue(name, out var specs) ? new PackageDetail(name, specs) : null);
    }

    public Task<SpecDetail?> GetSpecAsync(string hash, string mirrorUrl, CancellationToken cancellationToken = default)
    {
        if (!byHash.TryGetValue(hash, out var row))
        {
            return Task.FromResult<SpecDetail?>(null);
        }

        var directs = Links(dependencies.GetValueOrDefault(hash) ?? []);
        var parents = (dependents.GetValueOrDefault(hash) ?? []).Take(50).Select(d => Link(d.Parent, d.Types))
            .ToList();
        var nodes = new List<DependencyLink> { Link(hash, "") };
        var edges = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { hash };
        var queue = new Queue<string>([hash]);
        while (queue.TryDequeue(out var at))
        {
            foreach (var (child, types) in dependencies.GetValueOrDefault(at) ?? [])
            {
                edges.Add((at, child));
                if (seen.Add(child))
                {
                    nodes.Add(Link(child, types));
                    queue.Enqueue(child);
                }
            }
        }

        var variants = row.Variants.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v =>
            v[0] is '+' or '~' ? new VariantValue(v[1..], [v[0] == '+' ? "True" : "False"], true)
            : new VariantValue(v.Split('=')[0], v.Split('=', 2).Skip(1).SelectMany(x => x.Split(',')).ToList(), false))
            .ToList();
        var url = mirrorUrl.TrimEnd('/') + "/";
        var install = new InstallCommands(url,
            $"spack mirror add {Name} {url} && spack buildcache keys --install --trust && "
                + $"spack install --use-buildcache only /{hash}",
            $"depot install /{hash} --from {url}", $"spack:\n  mirrors:\n    {Name}: {url}\n");
        return Task.FromResult<SpecDetail?>(new SpecDetail(row, variants, directs, parents,
            new DependencyGraph(nodes, edges), 4096, 1_048_576,
            signatures.GetValueOrDefault(hash) ?? new SignatureInfo(SignatureState.Unsigned, null, null, null), Pushed,
            install));
    }

    public Task<IReadOnlyList<CatalogKey>> GetKeysAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<CatalogKey>>(Keys);

    public Task<IReadOnlyList<PushActivity>> GetActivityAsync(int limit,
        CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<PushActivity>>(rows.Take(limit)
            .Select(r => new PushActivity(r.Hash, r.Name, r.Version, Pushed)).ToList());

    private List<DependencyLink> Links(IEnumerable<(string Hash, string Types)> links) =>
        links.Select(l => Link(l.Hash, l.Types)).ToList();

    private DependencyLink Link(string hash, string types)
    {
        if (byHash.TryGetValue(hash, out var row))
        {
            return new DependencyLink(row.Name, row.Version, hash, types, true);
        }

        var (name, version) = External.GetValueOrDefault(hash, ("unknown", "0"));
        return new DependencyLink(name, version, hash, types, false);
    }

    private static bool Matches(SpecRow row, string term)
    {
        if (term.StartsWith('/'))
        {
            return row.Hash.StartsWith(term[1..], StringComparison.Ordinal);
        }

        var variants = row.Variants.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (term[0] is '+' or '~' || term.Contains('=', StringComparison.Ordinal))
        {
            return variants.Contains(term);
        }

        var at = term.IndexOf('@', StringComparison.Ordinal);
        return at > 0 ? row.Name == term[..at] && row.Version.StartsWith(term[(at + 1)..], StringComparison.Ordinal)
            : row.Name.StartsWith(term, StringComparison.Ordinal);
    }

    private static List<FacetValue> Facet(List<SpecRow> matched, Func<SpecRow, string> value) =>
        matched.GroupBy(value).Select(g => new FacetValue(g.Key, g.Count()))
            .OrderByDescending(f => f.Count).ThenBy(f => f.Value, StringComparer.Ordinal).ToList();
}
