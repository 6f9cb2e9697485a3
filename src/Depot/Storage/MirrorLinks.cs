using System.Runtime.InteropServices;
using Depot.Archive;
using Depot.Posix;
using Microsoft.Win32.SafeHandles;

namespace Depot.Storage;

/// <summary>
/// Keeps a local mirror's file operations inside its root. In a group-writable cache any member can plant a symbolic
/// link, so no read or write may follow one below the root (the root itself may be a link: that is the admin's
/// choice, and it is resolved once). Folders are checked with <c>lstat</c> from the root down and created one at a
/// time; a file is checked before it is opened, and on Linux the file actually opened is checked after (its
/// <c>/proc/self/fd</c> path must be the expected one), so a link swapped in between is caught too.
/// </summary>
internal static partial class MirrorLinks
{
    public static DepotException Refusal(string link) =>
        new($"{link}: is a symbolic link; Depot does not follow links inside a mirror");

    /// <summary>
    /// Walks the folders from <paramref name="root"/> down to the one holding <paramref name="relative"/> (its last
    /// part is not examined), refusing a symbolic link; with <paramref name="create"/>, makes missing folders one by
    /// one (with <paramref name="make"/>, else as <c>mkdir</c> does) and checks each again once made (a link planted in
    /// between is refused, not used).
    /// </summary>
    /// <exception cref="DepotException">A folder on the way is a symbolic link, or (creating) not a folder.</exception>
    public static void CheckFolders(string root, string relative, bool create, Action<string>? make = null)
    {
        var parts = relative.Split('/');
        var current = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            current = Path.Combine(current, parts[i]);
            var kind = KindOf(current);
            if (kind is null && create)
            {
                // a no-op when it exists (also through a link: checked below)
                (make ?? (path => Directory.CreateDirectory(path)))(current);
                kind = KindOf(current);
            }

            switch (kind)
            {
                case FileKind.Symlink:
                    throw Refusal(current);
                case null:
                    return; // nothing below exists; the operation itself reports "not found"
                case FileKind.Directory:
                    break;
                default:
                    if (create)
                    {
                        throw new DepotException($"{current}: is not a folder");
                    }

                    return;
            }
        }
    }

    /// <summary>
    /// The object itself, not followed: null when missing (or a folder, which is no object); a symbolic link or
    /// anything but a regular file (a FIFO would block a reader forever) is refused.
    /// </summary>
    public static FileStatus? CheckObject(string path)
    {
        var status = Lstat(path);
        return status?.Kind switch
        {
            null or FileKind.Directory => null,
            FileKind.Symlink => throw Refusal(path),
            FileKind.Regular => status,
            _ => throw new DepotException($"{path}: is not a regular file; Depot reads only regular files in a mirror"),
        };
    }

    /// <summary>
    /// After opening: the file the handle refers to must be <paramref name="expectedRealPath"/> (the real root plus the
    /// key). On a mismatch the link responsible is looked for and named. Linux only (elsewhere the checks before the
    /// open are all there is).
    /// </summary>
    public static void CheckOpened(SafeFileHandle handle, string expectedRealPath, string root, string relative)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var opened = OpenedPath(handle);
        // " (deleted)": the very file opened was replaced (renamed over by another writer's atomic write) or removed
        // since; the handle still reads it whole (found by bench/concurrency.sh: depot index racing depot serve).
        if (opened is null || opened == expectedRealPath || opened == expectedRealPath + DeletedSuffix)
        {
            return;
        }

        CheckFolders(root, relative, create: false);
        CheckObject(Path.Combine(root, relative));
        throw new DepotException($"{Path.Combine(root, relative)}: opened {opened}, which is not inside the mirror; "
            + "Depot does not follow links inside a mirror");
    }

    // What Linux appends to /proc/self/fd/N's target once the file is no longer at its path.
    private const string DeletedSuffix = " (deleted)";

    /// <summary>The path with every symbolic link resolved (the path must exist).</summary>
    public static string RealPath(string path)
    {
        var resolved = RealPathNative(path, 0);
        if (resolved == 0)
        {
            throw new DepotException(ErrorKind.IO,
                $"{path}: cannot be resolved ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved)!;
        }
        finally
        {
            Free(resolved);
        }
    }

    private static string? OpenedPath(SafeFileHandle handle)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget;
        }
        catch (IOException)
        {
            return null; // no /proc: nothing more to check
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static FileKind? KindOf(string path) => Lstat(path)?.Kind;

    private static FileStatus? Lstat(string path)
    {
        try
        {
            return FileStatus.Lstat(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
