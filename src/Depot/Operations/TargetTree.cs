using Depot.InstallTree;
using Depot.Layout;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>
/// The tree packages are installed into: where a spec's prefix goes, what is already there, where sbang lives, and
/// how finished installs are recorded (a Spack tree's database; nothing for a plain root).
/// </summary>
internal sealed class TargetTree
{
    private readonly InstallTarget target;
    private InstallDatabase? database;
    private readonly string projection;
    private readonly IReadOnlyList<(string Key, string Format)>? configured;
    private readonly Dictionary<string, string> plainPrefixes;

    private TargetTree(InstallTarget target, InstallDatabase? database, string projection,
        IReadOnlyList<(string Key, string Format)>? configured, Dictionary<string, string> plainPrefixes)
    {
        this.configured = configured;
        this.target = target;
        this.database = database;
        this.projection = projection;
        this.plainPrefixes = plainPrefixes;
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target.Root));
    }

    public string Root { get; }

    public bool IsPlainRoot => target is PlainRootTarget;

    /// <summary>Where Spack's <c>sbang</c> is expected: <c>&lt;unpadded root&gt;/bin/sbang</c>.</summary>
    public string SbangPath => RelocationPrefixes.SbangPath(Root);

    /// <exception cref="DepotException">The root, or its deepest part that exists, is not a directory.</exception>
    public static async Task<TargetTree> OpenAsync(InstallTarget target, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(target.Root);
        CheckIsDirectory(root, target is PlainRootTarget ? "install root" : "Spack install tree");
        if (target is PlainRootTarget)
        {
            // Installed prefixes of a plain root are the folders named ...-<hash> that hold .spack/spec.json.
            var found = new Dictionary<string, string>(StringComparer.Ordinal);
            if (Directory.Exists(root))
            {
                foreach (var dir in Directory.EnumerateDirectories(root))
                {
                    var name = Path.GetFileName(dir);
                    var dash = name.LastIndexOf('-');
                    if (dash > 0 && DagHash.IsValid(name[(dash + 1)..])
                        && File.Exists(Path.Combine(dir, ".spack", "spec.json")))
                    {
                        found[name[(dash + 1)..]] = dir;
                    }
                }
            }

            return new TargetTree(target, null, "", null, found);
        }

        var spack = (SpackTreeTarget)target;
        InstallDatabase? db = File.Exists(InstallDatabase.IndexPath(root))
            ? await InstallDatabase.ReadAsync(root, spack.LockTimeout, cancellationToken).ConfigureAwait(false)
            : null;
        // An explicit projection wins; else the Spack checkout's config.yaml (per package, then all); else the default.
        var configured = spack.Projection is null && spack.SpackRoot is { Length: > 0 } spackRoot
            ? Projection.FromSpackConfig(Path.Combine(spackRoot, "etc", "spack", "config.yaml"))
            : null;
        var projection = spack.Projection ?? Projection.DefaultFor(db?.Version ?? spack.NewTreeDatabaseVersion);
        return new TargetTree(target, db, projection, configured, []);
    }

    // Nothing is created before this: a root that is a file (or lies below one) would otherwise fail once per
    // package with the platform's own words.
    private static void CheckIsDirectory(string root, string what)
    {
        for (var part = root; !string.IsNullOrEmpty(part); part = Path.GetDirectoryName(part))
        {
            if (Directory.Exists(part))
            {
                return;
            }

            if (Path.Exists(part))
            {
                throw new DepotException(ErrorKind.Usage, part == root
                    ? $"{root}: is a file, not a directory: the {what} must be a directory (it is created if missing)"
                    : $"{root}: {part} is a file, not a directory, so the {what} cannot be created there");
            }
        }
    }

    /// <summary>
    /// In a Spack tree, takes the prefix locks of the specs this install may install (<see cref="PrefixLocks"/>) and
    /// then reads the database again, so that a spec another install recorded meanwhile counts as installed. The
    /// locks are to be held until <see cref="RegisterAsync"/> has run. Nothing for a plain root.
    /// </summary>
    /// <exception cref="DepotException">A lock was still held by another install after the target's lock
    /// timeout.</exception>
    /// <exception cref="DepotException">A spec the tree's database could not record (nothing is created
    /// then).</exception>
    public async Task<IDisposable> LockAsync(IEnumerable<SpecNode> specs, CancellationToken cancellationToken)
    {
        if (target is not SpackTreeTarget spack)
        {
            return PlainRootLock.Instance;
        }

        var wanted = specs.Where(s => InstalledPrefix(s.Hash) is null).ToList();
        wanted.ForEach(CheckCanRecord);
        wanted.ForEach(s => PrefixFor(s)); // a spec that cannot have a prefix is refused before anything is created
        var timeout = spack.LockTimeout ?? TimeSpan.FromMinutes(10);
        var locks = await PrefixLocks.AcquireAsync(Root, wanted.Select(s => s.Hash), timeout, cancellationToken)
            .ConfigureAwait(false);
        try
        {
            if (File.Exists(InstallDatabase.IndexPath(Root)))
            {
                database = await InstallDatabase.ReadAsync(Root, timeout, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            locks.Dispose();
            throw;
        }

        return locks;
    }

    /// <summary>The prefix of an installed spec, or null when the target does not have it.</summary>
    public string? InstalledPrefix(string hash)
    {
        if (database is null)
        {
            return plainPrefixes.GetValueOrDefault(hash);
        }

        return database.Find(hash) is { Installed: true } r && r.Path is not null
            ? (r.Spec.IsExternal ? r.Path : database.LocalPrefix(r)) : null;
    }

    /// <summary>Refuses, before anything is unpacked, a spec the tree's database could not record.</summary>
    /// <exception cref="DepotException">A Spack 1.x spec for a 0.21 tree, or the reverse.</exception>
    public void CheckCanRecord(SpecNode spec)
    {
        if (target is SpackTreeTarget spack)
        {
            InstallDatabaseWriter.CheckGeneration(spec, database?.Version ?? spack.NewTreeDatabaseVersion,
                InstallDatabase.IndexPath(Root));
        }
    }

    /// <summary>
    /// Where a spec not yet installed goes: <c>ROOT/name-version-hash</c> or the tree's projection, from the verified
    /// spec's fields, every component checked and the normalised prefix inside the root.
    /// </summary>
    /// <exception cref="DepotException">The name, version or hash cannot make a prefix inside the root.</exception>
    public string PrefixFor(SpecNode spec)
    {
        PrefixNames.CheckSpec(spec);
        var relative = target is PlainRootTarget ? PathNames.Polite($"{spec.Name}-{spec.Version}-{spec.Hash}")
            : Projection.Render(Projection.For(configured, spec, projection), spec);
        return PrefixNames.Inside(Root, relative, $"{spec.Name}/{spec.Hash[..7]}");
    }

    /// <summary>
    /// A short path inside the root that can stand for a prefix (a symlink to it) where the prefix itself is too long
    /// for a binary's string: <c>ROOT/&lt;hash prefix&gt;</c>, as long as <paramref name="maxLength"/> allows (at least
    /// 3 hash characters), unless that name is already taken by something else.
    /// </summary>
    public string? AliasFor(string hash, string prefix, int maxLength)
    {
        var room = maxLength - Root.Length - 1;
        if (room < 3)
        {
            return null;
        }

        var alias = Path.Combine(Root, hash[..Math.Min(room, 7)]);
        var existing = new FileInfo(alias).LinkTarget;
        return existing is null && !Path.Exists(alias) || existing == Path.GetFileName(prefix) ? alias : null;
    }

    /// <summary>
    /// Records finished installs (dependencies first) in a Spack tree's database; <paramref name="resolve"/> gives the
    /// verified nodes of dependencies the database lacks (externals, build dependencies).
    /// </summary>
    public Task RegisterAsync(IReadOnlyList<(SpecNode Spec, string Prefix, bool Explicit)> installed,
        IReadOnlyList<SpecNode> externals, Func<string, SpecNode?> resolve, CancellationToken cancellationToken)
    {
        if (target is not SpackTreeTarget spack || installed.Count == 0)
        {
            return Task.CompletedTask;
        }

        var known = new Dictionary<string, SpecNode>(StringComparer.Ordinal);
        foreach (var spec in installed.Select(i => i.Spec).Concat(externals))
        {
            known.TryAdd(spec.Hash, spec);
        }

        return InstallDatabaseWriter.AddAsync(Root, spack.NewTreeDatabaseVersion,
            installed.Select(i => new NewInstallRecord(i.Spec, i.Prefix, i.Explicit)).ToList(),
            hash => known.GetValueOrDefault(hash) ?? resolve(hash), spack.LockTimeout, cancellationToken);
    }

    private sealed class PlainRootLock : IDisposable
    {
        public static readonly PlainRootLock Instance = new();

        public void Dispose()
        {
        }
    }
}
