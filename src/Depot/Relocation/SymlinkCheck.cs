using Depot.Archive;
using Depot.Posix;

namespace Depot.Relocation;

/// <summary>
/// The last check of an unpacked, relocated package: every symlink in it (listed for relocation or not) must end,
/// from where it will be once the package is in place, inside the package's new prefix, inside the new prefix of a
/// dependency being relocated to, or at one of a few exact files (the sbang Depot installs). Old build-time prefixes
/// count for nothing: a link that relocation did not move is judged by where it points now.
/// </summary>
/// <remarks>
/// Targets are resolved component by component as the kernel would: <c>..</c> climbs, and a component that is itself
/// a symlink of the package is followed (so <c>a -&gt; .</c> then <c>b -&gt; a/..</c> is seen to leave the package,
/// which a purely lexical check would miss). Outside the package nothing is followed: there, <c>..</c> is accepted
/// only on the way down from the file system root to the prefix (directories of the install tree, not of a package),
/// never inside a dependency's prefix, whose own symlinks Depot does not read here.
/// </remarks>
public static class SymlinkCheck
{
    private const int MaxFollowed = 40;

    /// <param name="staging">The unpacked package folder.</param>
    /// <param name="prefix">Where that folder will be moved (absolute, normalised).</param>
    /// <param name="dependencyPrefixes">New prefixes of the dependencies the package may point into.</param>
    /// <param name="exactFiles">Absolute paths a link may name exactly (sbang).</param>
    /// <param name="location">The tarball, for messages.</param>
    /// <exception cref="InvalidContentException">A symlink ends anywhere else, or follows too many
    /// symlinks.</exception>
    public static void Check(string staging, string prefix, IReadOnlyCollection<string> dependencyPrefixes,
        IReadOnlyCollection<string> exactFiles, string location)
    {
        prefix = Normalise(prefix);
        var allowed = dependencyPrefixes.Select(Normalise).Prepend(prefix).ToList();
        var pending = new Stack<string>([staging]);
        while (pending.Count > 0)
        {
            foreach (var entry in new DirectoryInfo(pending.Pop()).EnumerateFileSystemInfos())
            {
                if (entry.LinkTarget is { } target)
                {
                    var relative = Path.GetRelativePath(staging, entry.FullName);
                    var end = Resolve(staging, prefix, allowed, relative, target, location);
                    if (!allowed.Any(a => end == a || IsInside(end, a)) && !exactFiles.Contains(end))
                    {
                        throw new InvalidContentException(location,
                            $"symlink {relative} -> {target} points outside the packages being installed (to {end})");
                    }
                }
                else if (entry is DirectoryInfo)
                {
                    pending.Push(entry.FullName);
                }
            }
        }
    }

    // Where the link at `relative` (moved to `prefix`) ends, as an absolute path with no '.', '..' or package symlink.
    private static string Resolve(string staging, string prefix, List<string> allowed, string relative, string target,
        string location)
    {
        var current = new List<string>(Split(target.StartsWith('/') ? ""
            : Path.GetDirectoryName(Path.Combine(prefix, relative))!));
        var remaining = new Stack<string>(Split(target).AsEnumerable().Reverse());
        var followed = 0;
        while (remaining.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }

            var here = "/" + string.Join('/', current);
            if (part == "..")
            {
                // Inside the package every component is a real directory (symlinks were followed); above the prefix are
                // the tree's own directories. Anywhere else a '..' may undo a symlink Depot has not looked at.
                var climbable = here == prefix || IsInside(here, prefix) || here == "/" || IsInside(prefix, here);
                if (!climbable)
                {
                    var within = allowed.FirstOrDefault(a => here == a || IsInside(here, a)) ?? here;
                    throw new InvalidContentException(location,
                        $"symlink {relative} -> {target} points outside the packages being installed (it climbs with "
                        + $"'..' out of {within})");
                }

                if (current.Count > 0)
                {
                    current.RemoveAt(current.Count - 1);
                }

                continue;
            }

            current.Add(part);
            var path = "/" + string.Join('/', current);
            if (!IsInside(path, prefix) || !IsSymlink(Path.Combine(staging, path[(prefix.Length + 1)..]), out var next))
            {
                continue;
            }

            if (++followed > MaxFollowed)
            {
                throw new InvalidContentException(location,
                    $"symlink {relative} -> {target} leads through more than {MaxFollowed} symlinks");
            }

            current.RemoveAt(current.Count - 1);
            if (next.StartsWith('/'))
            {
                current.Clear();
            }

            foreach (var nextPart in Split(next).AsEnumerable().Reverse())
            {
                remaining.Push(nextPart);
            }
        }

        return "/" + string.Join('/', current);
    }

    private static bool IsSymlink(string path, out string target)
    {
        target = "";
        try
        {
            if (FileStatus.Lstat(path).Kind != FileKind.Symlink)
            {
                return false;
            }
        }
        catch (IOException)
        {
            return false; // not there (a dangling path inside the package): nothing to follow
        }

        target = new FileInfo(path).LinkTarget ?? "";
        return true;
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static string Normalise(string path) => "/" + string.Join('/', Split(Path.GetFullPath(path)));

    private static bool IsInside(string path, string directory) =>
        directory == "/" ? path.Length > 1
            : path.Length > directory.Length + 1 && path.StartsWith(directory + "/", StringComparison.Ordinal);
}
