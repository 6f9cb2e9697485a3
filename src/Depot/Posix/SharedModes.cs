using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Depot.Posix;

/// <summary>
/// Permissions of what Depot makes inside a shared folder: a new file or folder takes its group and its group and
/// other permission bits from the folder it is made in, whatever the writer's umask, the way an admin who made a
/// mirror <c>chmod g+ws</c> expects. A folder gets the parent's read, write and search bits for group and others and
/// its set-group-id bit (never its sticky bit); a file gets the parent's read and write bits (never execute). The owner
/// keeps full access; nothing becomes world-writable unless its folder is. The group is set as set-group-id would set
/// it, when the writer is a member (the kernel refuses otherwise, and the writer's group stays). Linux; elsewhere
/// nothing changes.
/// </summary>
public static partial class SharedModes
{
    private const int SetGroupId = 0x400; // S_ISGID
    private const int GroupAndOther = 0x3f; // 0077
    private const int GroupAndOtherReadWrite = 0x36; // 0066

    /// <summary>The mode of a new file in a folder of mode <paramref name="folderMode"/>.</summary>
    public static int ForFile(int folderMode) => 0x180 | (folderMode & GroupAndOtherReadWrite);

    /// <summary>The mode of a new folder in a folder of mode <paramref name="folderMode"/>.</summary>
    public static int ForFolder(int folderMode) => 0x1c0 | (folderMode & (GroupAndOther | SetGroupId));

    /// <summary>
    /// Gives the open file or folder <paramref name="handle"/> the group and mode its folder
    /// <paramref name="folder"/> calls for (the caller made it, so it is the owner and may).
    /// </summary>
    public static void Inherit(SafeFileHandle handle, FileStatus folder)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var current = FileStatus.Of(handle);
        var wanted = current.Kind == FileKind.Directory ? ForFolder(folder.Mode) : ForFile(folder.Mode);
        if (current.Gid == folder.Gid && current.Mode == wanted)
        {
            return;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            if (current.Gid != folder.Gid)
            {
                // Not a member of the folder's group: EPERM, and the file keeps the writer's group.
                _ = FChown(fd, uint.MaxValue, folder.Gid);
            }

            // After the chown: changing a file's group clears its set-id bits.
            if (FChmod(fd, (uint)wanted) != 0)
            {
                throw new IOException(
                    $"cannot set mode {Convert.ToString(wanted, 8)}: {Marshal.GetLastPInvokeErrorMessage()}");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Opens a folder without following a link at its last part (<c>O_DIRECTORY | O_NOFOLLOW</c>), to change its mode
    /// through the handle; the caller checks that the folder opened is the one meant.
    /// </summary>
    /// <exception cref="IOException">It cannot be opened, or is not a folder.</exception>
    public static SafeFileHandle OpenFolder(string path)
    {
        // O_DIRECTORY and O_NOFOLLOW differ between architectures; O_RDONLY is 0 and O_CLOEXEC 02000000 on all.
        var (directory, noFollow) = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm or Architecture.Arm64 or Architecture.Ppc64le => (0x4000, 0x8000),
            _ => (0x10000, 0x20000),
        };
        var fd = Open(path, directory | noFollow | 0x80000);
        if (fd < 0)
        {
            throw new IOException($"{path}: cannot open the folder: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Renames the folder <paramref name="from"/> to <paramref name="to"/> unless something is there already (then
    /// false, and nothing moved): <c>renameat2(RENAME_NOREPLACE)</c>, or where the file system lacks it, a check and a
    /// rename.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">The folder's folder refuses it.</exception>
    public static bool MoveFolderNoReplace(string from, string to)
    {
        const int AtFdCwd = -100;
        if (RenameAt2(AtFdCwd, from, AtFdCwd, to, 1) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        switch (errno)
        {
            case 17 or 39: // EEXIST, ENOTEMPTY
                return false;
            case 22 or 38: // EINVAL, ENOSYS: no RENAME_NOREPLACE here
                if (Path.Exists(to))
                {
                    return false;
                }

                try
                {
                    Directory.Move(from, to);
                    return true;
                }
                catch (IOException) when (Path.Exists(to))
                {
                    return false;
                }

            case 1 or 13: // EPERM, EACCES
                throw new UnauthorizedAccessException($"Access to the path '{to}' is denied.");
            default:
                throw new IOException($"{to}: cannot create the folder: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int fromDir, string from, int toDir, string to, uint flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FChmod(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    private static partial int FChown(int fd, uint uid, uint gid);
}
