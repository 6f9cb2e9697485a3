using Depot.Archive;
using Depot.Posix;

namespace Depot.Relocation;

/// <summary>What relocating one prefix did and what it could not do.</summary>
/// <param name="FilesChanged">Text files, binaries and links rewritten.</param>
/// <param name="Problems">Per file: strings that could not be rewritten (a longer prefix in a C string, say).</param>
/// <param name="Leftovers">Files listed for relocation that still mention an old prefix afterwards.</param>
public sealed record RelocationReport(int FilesChanged, IReadOnlyList<string> Problems,
    IReadOnlyList<string> Leftovers);

/// <summary>
/// Relocates an unpacked prefix the way Spack does (<c>relocation.md</c> §4): the files its build info lists — text by
/// regex substitution, ELF binaries by RPATH/RUNPATH/interpreter rewriting and then embedded-string replacement,
/// symlinks retargeted — and checks afterwards that no listed file still names an old prefix. Listed paths must stay
/// inside the prefix and must be what the list says (a listed text file that is a symlink is refused, so nothing is
/// ever written outside the prefix).
/// </summary>
public static class PackageRelocator
{
    /// <remarks>
    /// <c>prefix</c> is the unpacked prefix (its final path or a temporary one beside it); <c>map</c> holds old → new
    /// prefixes in Spack's order; <c>shortAlias</c> gives, for an old prefix whose new one is longer, a path no longer
    /// than the old one that leads to the new prefix (Depot creates it as a symlink), or null: embedded strings and
    /// RPATH entries that cannot grow use it.
    /// </remarks>
    /// <exception cref="InvalidContentException">A listed path escapes the prefix or is not of its listed
    /// kind.</exception>
    public static async Task<RelocationReport> RelocateAsync(string prefix, BuildInfo info, PrefixMap map,
        Func<string, string?>? shortAlias, string location, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var changed = 0;
        if (map.IsEmpty)
        {
            return new RelocationReport(0, problems, []);
        }

        // Binary strings cannot grow: where a new prefix is longer, use its short alias when one fits.
        var binaryMap = new PrefixMap();
        foreach (var (old, @new) in map.Pairs)
        {
            var oldText = System.Text.Encoding.UTF8.GetString(old);
            var newText = System.Text.Encoding.UTF8.GetString(@new);
            var alias = @new.Length > old.Length ? shortAlias?.Invoke(oldText) : null;
            binaryMap.Add(oldText, alias is not null && alias.Length <= old.Length ? alias : newText,
                alias is not null && alias.Length <= old.Length);
        }

        foreach (var relative in info.RelocateTextFiles)
        {
            var path = Listed(prefix, relative, FileKind.Regular, location);
            if (path is null)
            {
                continue;
            }

            var content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            if (TextRelocator.Relocate(content, map) is { } relocated)
            {
                await RewriteInPlaceAsync(path, relocated, cancellationToken).ConfigureAwait(false);
                changed++;
            }
        }

        foreach (var relative in info.RelocateBinaries)
        {
            var path = Listed(prefix, relative, FileKind.Regular, location);
            if (path is null)
            {
                continue;
            }

            var content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            var original = content.ToArray();
            var elfProblems = ElfPaths.RelocateInPlace(content, map, old => AliasedPath(old, binaryMap),
                out var elfChanged, relative);
            var stringProblems = BinaryRelocator.RelocateInPlace(content, binaryMap, out var stringsChanged);
            problems.AddRange(elfProblems.Concat(stringProblems).Select(p => $"{relative}: {p}"));
            if (elfChanged || stringsChanged)
            {
                await PatchInPlaceAsync(path, original, content, cancellationToken).ConfigureAwait(false);
                changed++;
            }
        }

        foreach (var relative in info.RelocateLinks)
        {
            var path = Listed(prefix, relative, FileKind.Symlink, location);
            if (path is null || new FileInfo(path).LinkTarget is not { } target || !target.StartsWith('/'))
            {
                continue;
            }

            if (map.MapStart(target) is { } moved)
            {
                File.Delete(path);
                File.CreateSymbolicLink(path, moved);
                changed++;
            }
        }

        var leftovers = new List<string>();
        foreach (var relative in info.RelocateTextFiles.Concat(info.RelocateBinaries))
        {
            var path = Path.Combine(prefix, relative);
            if (File.Exists(path)
                && TextRelocator.MentionsOld(await File.ReadAllBytesAsync(path, cancellationToken)
                    .ConfigureAwait(false), map))
            {
                leftovers.Add(relative);
            }
        }

        foreach (var relative in info.RelocateLinks)
        {
            var target = new FileInfo(Path.Combine(prefix, relative)).LinkTarget;
            if (target is not null && TextRelocator.MentionsOld(System.Text.Encoding.UTF8.GetBytes(target), map))
            {
                leftovers.Add(relative);
            }
        }

        return new RelocationReport(changed, problems, leftovers);
    }

    // An RPATH or interpreter string with the short aliases substituted (used when the real new one would grow).
    private static string? AliasedPath(string old, PrefixMap binaryMap) =>
        string.Join(':', old.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(e => binaryMap.MapStart(e) ?? e));

    private static string? Listed(string prefix, string relative, FileKind kind, string location)
    {
        if (relative.Length == 0 || relative.StartsWith('/') || relative.Split('/').Any(p => p is ".." or "." or ""))
        {
            throw new InvalidContentException(location,
                $"build info lists '{relative}', which is not a path inside the prefix");
        }

        var path = Path.Combine(prefix, relative);
        FileStatus status;
        try
        {
            // Outermost first: a missing folder means the file is absent; a symlinked one is refused.
            var folders = new List<string>();
            for (var dir = Path.GetDirectoryName(path); dir is not null && dir.Length > prefix.Length;
                 dir = Path.GetDirectoryName(dir))
            {
                folders.Insert(0, dir);
            }

            foreach (var dir in folders)
            {
                if (FileStatus.Lstat(dir).Kind != FileKind.Directory)
                {
                    throw new InvalidContentException(location,
                        $"build info lists '{relative}', which lies behind a symlink");
                }
            }

            status = FileStatus.Lstat(path);
        }
        catch (FileNotFoundException)
        {
            return null; // listed but absent: nothing to relocate
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        if (status.Kind != kind)
        {
            throw new InvalidContentException(location,
                $"build info lists '{relative}' as a {Describe(kind)}, but it is a {Describe(status.Kind)}");
        }

        return path;
    }

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "file",
        FileKind.Symlink => "link",
        FileKind.Directory => "directory",
        _ => "special file",
    };

    // Binaries keep their length: only the blocks that changed are written back (a few strings in a large library).
    private static async Task PatchInPlaceAsync(string path, byte[] original, byte[] modified,
        CancellationToken cancellationToken)
    {
        const int Block = 64 << 10;
        var info = new FileInfo(path);
        var readOnly = (info.UnixFileMode & UnixFileMode.UserWrite) == 0;
        if (readOnly)
        {
            info.UnixFileMode |= UnixFileMode.UserWrite;
        }

        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            for (var at = 0; at < modified.Length; at += Block)
            {
                var length = Math.Min(Block, modified.Length - at);
                if (!original.AsSpan(at, length).SequenceEqual(modified.AsSpan(at, length)))
                {
                    await RandomAccess.WriteAsync(handle, modified.AsMemory(at, length), at, cancellationToken)
                        .ConfigureAwait(false);
                }
            }
        }

        if (readOnly)
        {
            info.UnixFileMode &= ~UnixFileMode.UserWrite;
        }
    }

    // Same inode (hard links keep sharing the change), new length.
    private static async Task RewriteInPlaceAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        var readOnly = (info.UnixFileMode & UnixFileMode.UserWrite) == 0;
        if (readOnly)
        {
            info.UnixFileMode |= UnixFileMode.UserWrite;
        }

        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            stream.SetLength(content.Length);
            await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        }

        if (readOnly)
        {
            info.UnixFileMode &= ~UnixFileMode.UserWrite;
        }
    }
}
