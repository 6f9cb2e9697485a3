using Depot.Posix;

namespace Depot.Archive;

/// <summary>What to archive and how Spack would name and describe it.</summary>
/// <param name="LocalPrefix">Where the prefix's files are on this machine.</param>
/// <param name="RecordedPrefix">
/// The prefix as its install tree recorded it (usually the same path; differs when the tree was moved). Member names
/// and the build info use it, because that is the path the files' contents refer to.
/// </param>
/// <param name="IncludeParentDirectories">Spack 0.22+ and 1.x emit every ancestor directory first; 0.21 does
/// not.</param>
/// <param name="Relocatable">Prefixes whose mention makes a text file or symlink need relocation.</param>
/// <param name="Style">Build info dialect.</param>
/// <param name="Template">Build info without the three relocation lists (they come from the walk).</param>
public sealed record PrefixArchiveRequest(
    string LocalPrefix,
    string RecordedPrefix,
    bool IncludeParentDirectories,
    PrefixMatcher Relocatable,
    BuildInfoStyle Style,
    BuildInfo Template);

/// <summary>
/// Writes an install prefix as Spack's package tarball (<c>relocation.md</c> §1): members named by the absolute
/// recorded path without its leading '/', depth-first with each directory's files (sorted by name) before its
/// subdirectories, ownership and times zeroed, modes normalised like git, symlinks verbatim, later names of one inode
/// as hard links, and a fresh <c>.spack/binary_distribution</c> last — classifying every file on the way so the build
/// info lists what must be relocated.
/// </summary>
public static class PrefixArchiver
{
    private const string BuildInfoPath = ".spack/binary_distribution";

    /// <summary>Total bytes of regular-file content under a prefix (for progress), following Spack's walk.</summary>
    public static long ContentSize(string localPrefix)
    {
        long total = 0;
        var seen = new HashSet<(ulong, ulong)>();
        foreach (var (path, _, status) in Walk(localPrefix))
        {
            if (status.Kind == FileKind.Regular && (status.Links <= 1 || seen.Add((status.Device, status.Inode))))
            {
                total += status.Size;
            }
        }

        return total;
    }

    /// <summary>Writes the tarball into <paramref name="tar"/> (not closed) and returns the build info it ends
    /// with.</summary>
    /// <remarks><c>contentRead</c> is called with the running count of content bytes read (progress).</remarks>
    /// <exception cref="IOException">A file could not be read, or changed size while read.</exception>
    public static async Task<BuildInfo> WriteAsync(PythonTarWriter tar, PrefixArchiveRequest request,
        Action<long>? contentRead = null, CancellationToken cancellationToken = default)
    {
        var local = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.LocalPrefix));
        var recorded = request.RecordedPrefix.TrimEnd('/');
        var memberRoot = recorded.TrimStart('/');
        if (request.IncludeParentDirectories)
        {
            var parts = memberRoot.Split('/');
            for (var i = 1; i < parts.Length; i++)
            {
                await tar.AddDirectoryAsync(string.Join('/', parts[..i]), cancellationToken).ConfigureAwait(false);
            }
        }

        (ulong, ulong)? buildInfoId = null;
        try
        {
            var existing = FileStatus.Lstat(Path.Combine(local, BuildInfoPath));
            buildInfoId = (existing.Device, existing.Inode);
        }
        catch (IOException)
        {
            // No build info in the prefix: nothing to skip.
        }

        var firstNameOfInode = new Dictionary<(ulong, ulong), string>();
        var binaries = new List<string>();
        var links = new List<string>();
        var textFiles = new List<string>();
        long read = 0;
        foreach (var (path, relative, status) in Walk(local))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = relative.Length == 0 ? memberRoot : memberRoot + "/" + relative;
            var relocatable = !relative.StartsWith(".spack/", StringComparison.Ordinal) && relative != ".spack";
            switch (status.Kind)
            {
                case FileKind.Directory:
                    await tar.AddDirectoryAsync(name, cancellationToken).ConfigureAwait(false);
                    break;
                case FileKind.Symlink:
                    var target = new FileInfo(path).LinkTarget ?? "";
                    await tar.AddSymlinkAsync(name, target, cancellationToken).ConfigureAwait(false);
                    if (relocatable && target.StartsWith('/') && request.Relocatable.Matches(target))
                    {
                        links.Add(relative);
                    }

                    break;
                case FileKind.Regular:
                    var id = (status.Device, status.Inode);
                    if (buildInfoId == id)
                    {
                        continue;
                    }

                    var mode = status.OwnerExecutable ? 0x1ed : 0x1a4;
                    if (status.Links > 1)
                    {
                        if (firstNameOfInode.TryGetValue(id, out var first))
                        {
                            await tar.AddHardLinkAsync(name, first, mode, cancellationToken).ConfigureAwait(false);
                            continue;
                        }

                        firstNameOfInode[id] = name;
                    }

                    var classifier = relocatable ? new FileClassifier(request.Relocatable) : null;
                    await using (var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite,
                        1, FileOptions.SequentialScan))
                    {
                        await tar.AddFileAsync(name, mode, status.Size, content, chunk =>
                        {
                            classifier?.Observe(chunk.Span);
                            read += chunk.Length;
                            contentRead?.Invoke(read);
                        }, cancellationToken).ConfigureAwait(false);
                    }

                    if (classifier?.Result() == FileClass.Binary)
                    {
                        binaries.Add(relative);
                    }
                    else if (classifier?.TextMentionsPrefix == true)
                    {
                        textFiles.Add(relative);
                    }

                    break;
            }
        }

        var info = request.Template with
        {
            RelocateBinaries = binaries,
            RelocateLinks = links,
            RelocateTextFiles = textFiles,
        };
        await tar.AddFileAsync(memberRoot + "/" + BuildInfoPath, 0x1a4, info.ToYaml(request.Style), cancellationToken)
            .ConfigureAwait(false);
        return info;
    }

    /// <summary>
    /// Spack's walk: a directory, then its non-directories sorted by name, then its subdirectories (each recursively,
    /// sorted). Symlinks to directories are symlinks; devices, FIFOs and sockets are skipped.
    /// </summary>
    private static IEnumerable<(string Path, string Relative, FileStatus Status)> Walk(string root)
    {
        var rootStatus = FileStatus.Lstat(root);
        if (rootStatus.Kind != FileKind.Directory)
        {
            throw new DepotException(ErrorKind.NotFound, $"{root}: install prefix is not a directory");
        }

        var stack = new Stack<(string Path, string Relative)>();
        stack.Push((root, ""));
        while (stack.Count > 0)
        {
            var (dir, relative) = stack.Pop();
            yield return (dir, relative, new FileStatus(FileKind.Directory, 0x1ed, 0, 0, 0, 1));
            var names = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Select(n => n!).ToList();
            names.Sort(CodePointComparer.Instance);
            var subdirectories = new List<(string, string)>();
            foreach (var n in names)
            {
                var path = Path.Combine(dir, n);
                var rel = relative.Length == 0 ? n : relative + "/" + n;
                var status = FileStatus.Lstat(path);
                if (status.Kind == FileKind.Directory)
                {
                    subdirectories.Add((path, rel));
                }
                else if (status.Kind != FileKind.Other)
                {
                    yield return (path, rel, status);
                }
            }

            for (var i = subdirectories.Count - 1; i >= 0; i--)
            {
                stack.Push(subdirectories[i]);
            }
        }
    }

    /// <summary>Python's str ordering (by code point), which differs from UTF-16 ordinal order above U+FFFF.</summary>
    private sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = (x ?? "").EnumerateRunes().GetEnumerator();
            var b = (y ?? "").EnumerateRunes().GetEnumerator();
            while (true)
            {
                var hasA = a.MoveNext();
                var hasB = b.MoveNext();
                if (!hasA || !hasB)
                {
                    return hasA.CompareTo(hasB);
                }

                var c = a.Current.Value.CompareTo(b.Current.Value);
                if (c != 0)
                {
                    return c;
                }
            }
        }
    }
}
