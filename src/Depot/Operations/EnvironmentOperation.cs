using Depot.Specs;

namespace Depot.Operations;

/// <summary>One environment variable to prepend directories to.</summary>
public sealed record EnvironmentEntry(string Variable, IReadOnlyList<string> Directories);

/// <summary>
/// <c>depot env --root</c>: the variables that make installed packages usable from a plain root (no Spack): PATH,
/// LD_LIBRARY_PATH, PKG_CONFIG_PATH, MANPATH and CMAKE_PREFIX_PATH for the named specs and everything they link or
/// run, listing only folders that exist. Packages are found by their prefix's <c>.spack/spec.json</c>.
/// </summary>
public static class EnvironmentOperation
{
    private static readonly (string Variable, string[] Subdirectories)[] Variables =
    [
        ("PATH", ["bin"]),
        ("LD_LIBRARY_PATH", ["lib", "lib64"]),
        ("PKG_CONFIG_PATH", ["lib/pkgconfig", "lib64/pkgconfig", "share/pkgconfig"]),
        ("MANPATH", ["share/man", "man"]),
        ("CMAKE_PREFIX_PATH", [""]),
    ];

    /// <exception cref="DepotException">A query matches no installed package, or several.</exception>
    public static IReadOnlyList<EnvironmentEntry> Run(string root, IReadOnlyList<SpecQuery> queries)
    {
        var installed = new Dictionary<string, (SpecFile Spec, string Prefix)>(StringComparer.Ordinal);
        if (Directory.Exists(root))
        {
            foreach (var dir in Directory.EnumerateDirectories(root))
            {
                var specPath = Path.Combine(dir, ".spack", "spec.json");
                if (new DirectoryInfo(dir).LinkTarget is null && new FileInfo(specPath).LinkTarget is null
                    && File.Exists(specPath))
                {
                    // A prefix is name-version-hash: one whose spec says another hash is not that spec's prefix.
                    var spec = SpecFile.Parse(File.ReadAllBytes(specPath), specPath);
                    if (Path.GetFileName(dir).EndsWith("-" + spec.Root.Hash, StringComparison.Ordinal))
                    {
                        installed[spec.Root.Hash] = (spec, dir);
                    }
                }
            }
        }

        var prefixes = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var query in queries)
        {
            var matches = installed.Values.Where(i => query.Matches(i.Spec.Root)).ToList();
            if (matches.Count != 1)
            {
                throw new DepotException(matches.Count == 0 ? ErrorKind.NotFound : ErrorKind.Usage, matches.Count == 0
                    ? $"'{query.Text}' matches nothing installed in {root}"
                    : $"'{query.Text}' matches {matches.Count} installed specs ("
                        + $"{string.Join(", ", matches.Select(m =>
                            $"{SpecFormatter.Short(m.Spec.Root)} /{m.Spec.Root.Hash[..7]}"))}"
                        + "): add /hash");
            }

            // The spec first, then what it links and runs, breadth-first: earlier entries win on the search paths.
            var queue = new Queue<SpecNode>([matches[0].Spec.Root]);
            while (queue.Count > 0)
            {
                var node = queue.Dequeue();
                if (!seen.Add(node.Hash))
                {
                    continue;
                }

                if (installed.TryGetValue(node.Hash, out var found))
                {
                    prefixes.Add(found.Prefix);
                }

                foreach (var edge in node.Dependencies.Where(e => (e.Types & (DepTypes.Link | DepTypes.Run)) != 0))
                {
                    if (matches[0].Spec.FindByHash(edge.Hash) is { IsExternal: false } dep)
                    {
                        queue.Enqueue(dep);
                    }
                }
            }
        }

        return Variables
            .Select(v => new EnvironmentEntry(v.Variable, prefixes
                .SelectMany(p => v.Subdirectories.Select(s => s.Length == 0 ? p : Path.Combine(p, s)))
                .Where(Directory.Exists).ToList()))
            .Where(e => e.Directories.Count > 0).ToList();
    }
}
