using System.Diagnostics;
using Depot.InstallTree;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>
/// <c>depot install</c>: finds specs in the mirrors' indexes (first mirror that has a spec wins), reads and verifies
/// each root's spec file, takes the link/run closure from the verified files, skips what the target already has, then
/// fetches, verifies, unpacks and relocates packages in parallel (<see cref="PackageInstaller"/>), each moved into
/// place only when complete; a Spack tree's database gets the new records last, dependencies first. Names, versions,
/// externals, prefixes and database records come only from verified spec files (<see cref="VerifiedEntries"/>).
/// </summary>
public static class InstallOperation
{
    /// <summary>
    /// Installs what <paramref name="queries"/> name from <paramref name="sources"/> (opened for reading, tried in
    /// order), each mirror's entries checked under its trust policy.
    /// </summary>
    public static async Task<InstallResult> RunAsync(IReadOnlyList<Mirror> sources, IReadOnlyList<SpecQuery> queries,
        InstallOptions options,
        IProgress<InstallProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var clock = Stopwatch.StartNew();
        if (sources.Count == 0)
        {
            throw new DepotException(ErrorKind.Usage, "no mirror to install from",
                new ErrorHint(HintAction.ChooseMirror));
        }

        // The target first: a root that cannot be one is refused before any mirror is read.
        var target = await TargetTree.OpenAsync(options.Target, cancellationToken).ConfigureAwait(false);
        foreach (var source in sources)
        {
            // Each mirror as the command named it: its layouts, then its trust policy (once; reused for every entry).
            await source.GetLayoutsAsync(cancellationToken).ConfigureAwait(false);
            await source.GetTrustAsync(cancellationToken).ConfigureAwait(false);
        }

        // The indexes (unsigned) only say which hashes the mirrors cache and where; each root's spec file is read and
        // verified before anything else, and the closure, names, versions, externals and prefixes come from there.
        var catalog = await MirrorCatalog.ReadAsync(sources, cancellationToken).ConfigureAwait(false);
        var verified = new VerifiedEntries();
        var outcomes = new List<InstallOutcome>();
        var roots = new List<SpecNode>();
        foreach (var (query, candidate) in queries.Select(q => (q, catalog.Resolve(q)))
            .DistinctBy(p => p.Item2.Spec.Hash).ToList())
        {
            try
            {
                var entry = await verified.ReadAsync(candidate, cancellationToken).ConfigureAwait(false);
                var root = entry.Content.Spec.Root;
                if (!query.Matches(root))
                {
                    throw new InvalidContentException(entry.Location,
                        $"'{query.Text}' matched {SpecFormatter.Short(candidate.Spec)} in the index of "
                        + $"{candidate.Source.Name}, but the verified spec is {SpecFormatter.Short(root)}");
                }

                roots.Add(root);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException || e is DepotException d
                && d.Kind.ConcernsOneEntry())
            {
                outcomes.Add(new InstallOutcome(candidate.Spec.Name, candidate.Spec.Hash,
                    SpecFormatter.Short(candidate.Spec), InstallStatus.Failed,
                    Reason: Posix.PermissionDenied.MessageOf(e), Mirror: candidate.Source.Name,
                    Hint: HintFor(candidate.Source, e)));
            }
        }

        // Dependencies first (post-order over link and run edges); externals are used where they are, never installed.
        var order = new List<SpecNode>();
        var externals = new List<SpecNode>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            Visit(root, verified.Node, seen, order, externals);
        }

        var explicitHashes = roots.Select(r => r.Hash).ToHashSet(StringComparer.Ordinal);
        var prefixes = new Dictionary<string, string>(StringComparer.Ordinal);
        var toInstall = new List<CatalogSpec>();
        using var prefixLocks = await target.LockAsync(order.Where(n => !n.IsExternal), cancellationToken)
            .ConfigureAwait(false); // held until the database records the installs
        foreach (var node in order)
        {
            if (target.InstalledPrefix(node.Hash) is { } existing)
            {
                prefixes[node.Hash] = existing;
                outcomes.Add(new InstallOutcome(node.Name, node.Hash, SpecFormatter.Short(node),
                    InstallStatus.AlreadyInstalled, existing));
            }
            else
            {
                target.CheckCanRecord(node);
                prefixes[node.Hash] = target.PrefixFor(node);
                var cached = catalog.Find(node.Hash) ?? throw new DepotException(ErrorKind.NotFound,
                    $"{node.Name}/{node.Hash[..7]} is needed, but no mirror caches it and the target does not have it",
                    catalog.MissingHint);
                toInstall.Add(cached with { Spec = node });
            }
        }

        // Folders the prefixes need that do not exist yet (the root, projection levels): removed again if they stay
        // empty.
        var newFolders = toInstall.SelectMany(s => FoldersToCreate(Path.GetDirectoryName(prefixes[s.Spec.Hash])!,
            target.Root))
            .Distinct(StringComparer.Ordinal).OrderByDescending(f => f.Length).ToList();
        var installer = new PackageInstaller(target, prefixes, options.Limits ?? new Archive.ExtractionLimits(),
            verified);
        var early = outcomes.ToList(); // what was decided before installing: present, refused roots
        var results = new InstallOutcome?[toInstall.Count];
        var started = new bool[toInstall.Count];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, toInstall.Count),
                new ParallelOptions
                {
                    MaxDegreeOfParallelism = Math.Max(1, options.Parallelism),
                    CancellationToken = stop.Token,
                },
                async (i, token) =>
                {
                    var spec = toInstall[i];
                    started[i] = true;
                    try
                    {
                        results[i] = await installer.InstallAsync(spec, progress, token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException || e is DepotException d
                        && d.Kind.ConcernsOneEntry())
                    {
                        results[i] = new InstallOutcome(spec.Spec.Name, spec.Spec.Hash, SpecFormatter.Short(spec.Spec),
                            InstallStatus.Failed,
                            prefixes[spec.Spec.Hash], Posix.PermissionDenied.MessageOf(e), Mirror: spec.Source.Name,
                                Hint: HintFor(spec.Source, e));
                        if (options.FailFast)
                        {
                            await stop.CancelAsync().ConfigureAwait(false);
                        }
                    }

                    progress?.Report(new InstallProgress(spec.Spec.Name, spec.Spec.Hash, "done", results[i]));
                }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && options.FailFast)
        {
            // Fail-fast: what did not finish is reported as not attempted.
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            RollBack(toInstall, results, prefixes, newFolders, target.Root);
            throw Cancelled(early, toInstall, results, started, prefixes, externals, clock, cancellationToken);
        }

        WithdrawDependentsOfFailures(toInstall, results, prefixes);
        RemoveIfEmpty(newFolders);
        for (var i = 0; i < toInstall.Count; i++)
        {
            var spec = toInstall[i].Spec;
            outcomes.Add(results[i]
                ?? new InstallOutcome(spec.Name, spec.Hash, SpecFormatter.Short(spec), InstallStatus.NotAttempted,
                    Reason: "not attempted (--fail-fast)"));
        }

        outcomes.AddRange(externals.Select(e => new InstallOutcome(e.Name, e.Hash, SpecFormatter.Short(e),
            InstallStatus.External, e.ExternalPath, "external: used where it is")));

        // Register what was installed, dependencies first; a record is only written for a complete prefix.
        var installed = toInstall.Where((s, i) => results[i]?.Status == InstallStatus.Installed).ToList();
        try
        {
            await target.RegisterAsync(installed.Select(s => (installer.VerifiedNode(s.Spec.Hash),
                prefixes[s.Spec.Hash], explicitHashes.Contains(s.Spec.Hash))).ToList(),
                externals, verified.Node, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled before the database took the records (its rename is the commit point).
            RollBack(toInstall, results, prefixes, newFolders, target.Root);
            throw Cancelled(early, toInstall, results, started, prefixes, externals, clock, cancellationToken);
        }

        return new InstallResult(outcomes, clock.Elapsed) { Problems = catalog.Problems };
    }

    // What a cancelled install had done, per package, after the roll-back: the packages that had finished were taken
    // out again, the others never reached their prefix.
    private static InstallCancelledException Cancelled(List<InstallOutcome> before, List<CatalogSpec> toInstall,
        InstallOutcome?[] results, bool[] started, Dictionary<string, string> prefixes, List<SpecNode> externals,
        Stopwatch clock, CancellationToken cancellationToken)
    {
        var outcomes = new List<InstallOutcome>(before);
        for (var i = 0; i < toInstall.Count; i++)
        {
            var spec = toInstall[i].Spec;
            outcomes.Add(results[i] switch
            {
                { Status: InstallStatus.Failed } failed => failed,

                // Its phase times stay: it had finished.
                { Status: InstallStatus.Installed } finished => finished with
                {
                    Status = InstallStatus.Cancelled,
                    Reason = "cancelled: it had finished, and was removed again with the rest of this install",
                    Relocation = null,
                },
                _ => new InstallOutcome(spec.Name, spec.Hash, SpecFormatter.Short(spec), InstallStatus.Cancelled,
                    prefixes[spec.Hash],
                    started[i] ? "cancelled while it was being installed" : "cancelled before it started",
                    Mirror: toInstall[i].Source.Name),
            });
        }

        outcomes.AddRange(externals.Select(e => new InstallOutcome(e.Name, e.Hash, SpecFormatter.Short(e),
            InstallStatus.External, e.ExternalPath, "external: used where it is")));
        return new InstallCancelledException(new InstallResult(outcomes, clock.Elapsed), cancellationToken);
    }

    // Cancelled: the prefixes this run moved into place are taken out again, with the short aliases pointing at them
    // and the folders made for them, so that a cancelled install leaves the tree as it found it (no prefix without
    // its database record; a package being unpacked only ever lives in its staging folder, removed on the way out).
    private static void RollBack(List<CatalogSpec> toInstall, InstallOutcome?[] results,
        Dictionary<string, string> prefixes, List<string> newFolders, string root)
    {
        var removed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < toInstall.Count; i++)
        {
            if (results[i]?.Status == InstallStatus.Installed && prefixes[toInstall[i].Spec.Hash] is var prefix
                && Directory.Exists(prefix))
            {
                Directory.Delete(prefix, recursive: true);
                removed.Add(prefix);
            }
        }

        if (Directory.Exists(root))
        {
            foreach (var alias in Directory.EnumerateFileSystemEntries(root)
                .Where(e => new FileInfo(e).LinkTarget is { } link
                    && removed.Contains(Path.GetFullPath(link, Path.GetDirectoryName(e)!))))
            {
                File.Delete(alias);
            }
        }

        RemoveIfEmpty(newFolders);
    }

    /// <summary>What would fix a package's failure: its mirror's trust says how to trust the signer, else the error's
    /// hint.</summary>
    private static ErrorHint? HintFor(Mirror source, Exception error) =>
        error is DepotException d ? source.BuiltTrust?.HintFor(d) ?? d.Hint : null;

    // Packages install side by side, so a dependent may finish although a dependency failed. It would point at a prefix
    // that is not there: take it out again (dependencies come first, so one pass sees every cause), so that a tree
    // never holds, nor a database records, a package whose dependencies are missing.
    private static void WithdrawDependentsOfFailures(List<CatalogSpec> toInstall, InstallOutcome?[] results,
        Dictionary<string, string> prefixes)
    {
        var broken = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < toInstall.Count; i++)
        {
            var node = toInstall[i].Spec;
            if (results[i] is not { Status: InstallStatus.Installed } done)
            {
                broken[node.Hash] = $"{node.Name}/{node.Hash[..7]}";
                continue;
            }

            var cause = node.Dependencies.Where(e => (e.Types & (DepTypes.Link | DepTypes.Run)) != 0)
                .Select(e => broken.GetValueOrDefault(e.Hash)).FirstOrDefault(c => c is not null);
            if (cause is null)
            {
                continue;
            }

            broken[node.Hash] = cause;
            Directory.Delete(prefixes[node.Hash], recursive: true);
            results[i] = done with
            {
                Status = InstallStatus.Failed,
                Reason = $"removed again: its dependency {cause} did not install",
                Relocation = null,
            };
        }
    }

    // `folder` and its ancestors up to and including `root` that do not exist, deepest first.
    private static IEnumerable<string> FoldersToCreate(string folder, string root)
    {
        for (var f = folder; f is not null && !Directory.Exists(f); f = Path.GetDirectoryName(f))
        {
            yield return f;
            if (f == root)
            {
                yield break;
            }
        }
    }

    private static void RemoveIfEmpty(List<string> deepestFirst)
    {
        foreach (var folder in deepestFirst.Where(f => Directory.Exists(f)
            && !Directory.EnumerateFileSystemEntries(f).Any()))
        {
            Directory.Delete(folder);
        }
    }

    // Walks verified nodes only: every edge of a verified spec file names a node of that file (SpecFile checks it).
    private static void Visit(SpecNode root, Func<string, SpecNode?> find, HashSet<string> seen, List<SpecNode> order,
        List<SpecNode> externals)
    {
        var stack = new Stack<(SpecNode Node, int Next)>();
        if (!seen.Add(root.Hash))
        {
            return;
        }

        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var edges = node.Dependencies.Where(e => (e.Types & (DepTypes.Link | DepTypes.Run)) != 0).ToList();
            if (next < edges.Count)
            {
                stack.Push((node, next + 1));
                var edge = edges[next];
                if (!seen.Add(edge.Hash))
                {
                    continue;
                }

                var dep = find(edge.Hash)
                    ?? throw new DepotException($"{node.Name}/{node.Hash[..7]} needs {edge.Name}/{edge.Hash[..7]}, "
                        + "which its spec file does not hold");
                if (dep.IsExternal)
                {
                    externals.Add(dep);
                }
                else
                {
                    stack.Push((dep, 0));
                }

                continue;
            }

            order.Add(node);
        }
    }
}
