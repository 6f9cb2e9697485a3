using System.Collections.Concurrent;
using System.Diagnostics;
using Depot.Archive;
using Depot.Formats;
using Depot.Layout;
using Depot.Relocation;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// Installs one package: fetch its entry and tarball (streamed to a file beside the target, sha256 checked on the
/// way, never more bytes than the entry records or the download limit), verify the signature and that the spec's
/// recomputed DAG hash is the one it is filed under (<see cref="VerifiedEntries"/>), unpack it safely into a temporary
/// folder beside its prefix, relocate it, check that every symlink ends inside the prefixes being installed, and only
/// then move it into place.
/// </summary>
internal sealed class PackageInstaller(TargetTree target, IReadOnlyDictionary<string, string> prefixes,
    ExtractionLimits limits, VerifiedEntries entries)
{
    /// <summary>The root node of an installed package as its verified spec file gave it.</summary>
    public SpecNode VerifiedNode(string hash) =>
        entries.Root(hash) ?? throw new InvalidOperationException($"{hash} was not verified");

    /// <summary>Installs <paramref name="spec"/> (its node taken from a verified spec file) from the mirror that caches
    /// it.</summary>
    public async Task<InstallOutcome> InstallAsync(CatalogSpec spec, IProgress<InstallProgress>? progress,
        CancellationToken cancellationToken)
    {
        var node = spec.Spec;
        var prefix = prefixes[node.Hash];
        var clock = Stopwatch.StartNew();
        var store = spec.Source.Store;

        progress?.Report(new InstallProgress(node.Name, node.Hash, "verify"));
        var (content, entryLocation) = await entries.ReadAsync(spec, cancellationToken).ConfigureAwait(false);
        var tarball = content.Tarball
            ?? throw new InvalidContentException(entryLocation, "the entry names no tarball checksum");
        var verifyTime = clock.Elapsed;

        Directory.CreateDirectory(Path.GetDirectoryName(prefix)!);
        // A Spack tree's prefix lock for this spec is held by the whole install (TargetTree.LockAsync), from before
        // the database was last read until the record is written.
        if (!target.IsPlainRoot && Directory.Exists(prefix))
        {
            RemoveInterruptedInstall(prefix, node.Hash);
        }

        var staging = Path.Combine(Path.GetDirectoryName(prefix)!, $".depot-tmp-{node.Hash}-{Guid.NewGuid():N}");
        var download = staging + ".spack";
        try
        {
            progress?.Report(new InstallProgress(node.Name, node.Hash, "fetch"));
            await FetchAsync(store, tarball, download, limits.MaxDownloadBytes, cancellationToken)
                .ConfigureAwait(false);
            var fetchTime = clock.Elapsed - verifyTime;

            progress?.Report(new InstallProgress(node.Name, node.Hash, "extract"));
            var unpacked = await SafeExtractor.ExtractAsync(download, staging, LimitsOf(spec.Source),
                store.Describe(tarball.Key), $"{SpecFormatter.Short(node)}/{node.Hash[..7]}", cancellationToken)
                .ConfigureAwait(false);
            File.Delete(download);
            var extractTime = clock.Elapsed - verifyTime - fetchTime;

            progress?.Report(new InstallProgress(node.Name, node.Hash, "relocate"));
            var infoPath = Path.Combine(unpacked, ".spack", "binary_distribution");
            var location = store.Describe(tarball.Key) + ":.spack/binary_distribution";
            var info = BuildInfo.Parse(await File.ReadAllBytesAsync(infoPath, cancellationToken).ConfigureAwait(false),
                location);
            var (map, aliases, dependencyPrefixes) = PrefixMapFor(content.Spec, info, prefix);
            var report = await PackageRelocator.RelocateAsync(unpacked, info, map,
                old => aliases.TryGetValue(old, out var a) ? a.Alias : null, location, cancellationToken)
                .ConfigureAwait(false);

            // Only now is every link's final target known: each must end inside the prefixes being installed. Checked
            // before anything (sbang) is put into the root for this package.
            SymlinkCheck.Check(unpacked, prefix, dependencyPrefixes, [target.SbangPath], store.Describe(tarball.Key));
            await EnsureSbangAsync(unpacked, info, cancellationToken).ConfigureAwait(false);
            if (target.IsPlainRoot)
            {
                KeepOnlySpec(unpacked);
            }

            Directory.Move(unpacked, prefix);
            CreateAliases(aliases.Values);
            var relocateTime = clock.Elapsed - verifyTime - fetchTime - extractTime;
            return new InstallOutcome(node.Name, node.Hash, SpecFormatter.Short(node), InstallStatus.Installed, prefix,
                Phases: new InstallPhases(fetchTime, verifyTime, extractTime, relocateTime), Relocation: report,
                Mirror: spec.Source.Name, Signer: content.SignerFingerprint);
        }
        finally
        {
            if (File.Exists(download))
            {
                File.Delete(download);
            }

            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>
    /// A prefix that exists while the database does not record it, with this spec's prefix lock held: a complete
    /// prefix whose install was killed between moving it into place and writing its record (Spack removes such a
    /// prefix before installing too). It goes only when its <c>.spack/spec.json</c> is this very spec; anything else
    /// is left alone and refused.
    /// </summary>
    private static void RemoveInterruptedInstall(string prefix, string hash)
    {
        var specPath = Path.Combine(prefix, ".spack", "spec.json");
        string? recorded = null;
        try
        {
            if (new DirectoryInfo(prefix).LinkTarget is null && new FileInfo(specPath).LinkTarget is null
                && File.Exists(specPath))
            {
                recorded = SpecFile.Parse(File.ReadAllBytes(specPath), specPath).Root.Hash;
            }
        }
        catch (Exception e) when (e is InvalidContentException or IOException)
        {
            recorded = null;
        }

        if (recorded != hash)
        {
            throw new DepotException(ErrorKind.Conflict,
                $"{prefix} exists but the database does not record it: remove it or run 'spack reindex'");
        }

        // Renamed aside first, so that the prefix is never visible half-deleted.
        var aside = Path.Combine(Path.GetDirectoryName(prefix)!, $".depot-tmp-{hash}-{Guid.NewGuid():N}-old");
        Directory.Move(prefix, aside);
        Directory.Delete(aside, recursive: true);
    }

    // The mirror's own ratio limit, if its configuration sets one; the refusal names where to change it.
    private ExtractionLimits LimitsOf(Mirror mirror) =>
        mirror is { ConfiguredName: { } name, Configuration: { } config }
        ? limits with
        {
            MaxCompressionRatio = config.MaxCompressionRatio ?? limits.MaxCompressionRatio,
            RatioSetting = $"max_compression_ratio of mirror '{name}', configured in {config.Source}",
        }
        : limits with
        {
            RatioSetting = $"max_compression_ratio of the mirror, configured by name in Depot's config.yaml "
                + $"({mirror.Name} is not)",
        };

    // A plain root has no Spack to read the builder's logs, environment, recipes, manifest or build info, which name
    // the build machine's paths: only .spack/spec.json stays (depot env and later installs read it).
    private static void KeepOnlySpec(string prefix)
    {
        var metadata = Path.Combine(prefix, ".spack");
        foreach (var entry in Directory.EnumerateFileSystemEntries(metadata))
        {
            if (Path.GetFileName(entry) == "spec.json")
            {
                continue;
            }

            if (new FileInfo(entry).LinkTarget is null && Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
    }

    // Streams the tarball to a local file, hashing on the way, and stops as soon as more bytes arrive than the entry
    // records (v3, OCI) or than the download limit (v2 records no size); a size or checksum mismatch leaves nothing.
    private static async Task FetchAsync(IStoreReader store, TarballRef tarball, string path, long maxBytes,
        CancellationToken cancellationToken)
    {
        var location = store.Describe(tarball.Key);
        if (tarball.Length > maxBytes)
        {
            throw new InvalidContentException(location,
                $"its entry records {tarball.Length} bytes, more than the download limit of {maxBytes} bytes");
        }

        var limit = tarball.Length ?? maxBytes;
        await using (var input = await store.OpenReadAsync(tarball.Key, cancellationToken).ConfigureAwait(false))
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16,
            FileOptions.Asynchronous))
        await using (var hashing = new ChecksumStream(file, leaveOpen: true))
        {
            // Never asks for more than one byte past the limit: that byte is enough to know the tarball is too long.
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await input.ReadAsync(buffer.AsMemory(0,
                (int)Math.Min(buffer.Length, limit + 1 - hashing.BytesWritten)), cancellationToken)
                    .ConfigureAwait(false)) > 0)
            {
                await hashing.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                if (hashing.BytesWritten > limit)
                {
                    throw new InvalidContentException(location, tarball.Length is { } expected
                        ? $"larger than the {expected} bytes its entry records: download stopped"
                        : $"larger than the download limit of {maxBytes} bytes (a v2 entry records no size): download "
                            + "stopped");
                }
            }

            if (tarball.Length is { } length && hashing.BytesWritten != length)
            {
                throw new InvalidContentException(location,
                    $"holds {hashing.BytesWritten} bytes, but its entry records {length}");
            }

            var actual = hashing.Sha256Hex();
            if (!string.Equals(actual, tarball.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidContentException(location,
                    $"sha256 is {actual}, but the entry records {tarball.Sha256}");
            }
        }
    }

    // relocation.md §4.1: sbang, then the package and the specs it links or runs (breadth-first, non-external), then
    // the old root. Aliases: for prefixes that grow, a short path in the new root that binaries can hold instead.
    // Also the new prefixes of the dependencies relocated to (link closure and direct run dependencies): where the
    // package's symlinks may point besides itself.
    private (PrefixMap Map, Dictionary<string, (string Alias, string Target)> Aliases,
        List<string> DependencyPrefixes) PrefixMapFor(SpecFile spec, BuildInfo info, string prefix)
    {
        var map = new PrefixMap();
        var dependencyPrefixes = new List<string>();
        var aliases = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        if (info.SbangInstallPath.Length > 0)
        {
            map.Add(info.SbangInstallPath, target.SbangPath);
        }

        var oldByHash = info.HashToPrefix.GroupBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        if (!oldByHash.ContainsKey(spec.Root.Hash) && info.RelativePrefix.Length > 0)
        {
            oldByHash[spec.Root.Hash] = info.BuildPath.TrimEnd('/') + "/" + info.RelativePrefix;
        }

        foreach (var node in InstallTree.RelocationPrefixes.SpecsToRelocate(spec.Root, spec.FindByHash,
            depthFirst: false))
        {
            var @new = node.Hash == spec.Root.Hash ? prefix
                : prefixes.GetValueOrDefault(node.Hash) ?? target.InstalledPrefix(node.Hash);
            if (@new is not null && node.Hash != spec.Root.Hash)
            {
                dependencyPrefixes.Add(@new);
            }

            if (@new is null || !oldByHash.TryGetValue(node.Hash, out var old))
            {
                continue;
            }

            map.Add(old, @new);
            if (@new.Length > old.Length && target.AliasFor(node.Hash, @new, old.Length) is { } alias)
            {
                aliases[old.TrimEnd('/')] = (alias, @new);
            }
        }

        map.Add(info.BuildPath, target.Root);
        return (map, aliases, dependencyPrefixes);
    }

    // Scripts whose long shebang went through Spack's sbang need it at the target's sbang path.
    private async Task EnsureSbangAsync(string staging, BuildInfo info, CancellationToken cancellationToken)
    {
        if (File.Exists(target.SbangPath) || info.SbangInstallPath.Length == 0)
        {
            return;
        }

        var needle = System.Text.Encoding.UTF8.GetBytes(target.SbangPath);
        foreach (var relative in info.RelocateTextFiles)
        {
            var path = Path.Combine(staging, relative);
            if (File.Exists(path)
                && (await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false)).AsSpan()
                    .IndexOf(needle) >= 0)
            {
                await Sbang.InstallAsync(target.SbangPath, cancellationToken).ConfigureAwait(false);
                return;
            }
        }
    }

    private static void CreateAliases(IEnumerable<(string Alias, string Target)> aliases)
    {
        foreach (var (alias, prefix) in aliases)
        {
            if (new FileInfo(alias).LinkTarget is null && !Path.Exists(alias))
            {
                try
                {
                    File.CreateSymbolicLink(alias, Path.GetRelativePath(Path.GetDirectoryName(alias)!, prefix));
                }
                catch (IOException) when (new FileInfo(alias).LinkTarget is not null)
                {
                    // Another package created the same alias at the same time.
                }
            }
        }
    }
}
