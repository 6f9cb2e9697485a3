using System.Runtime.InteropServices;

namespace Depot.Posix;

/// <summary>What a prefix walk needs to know of a path without following symlinks.</summary>
public enum FileKind
{
    Other,
    Directory,
    Regular,
    Symlink,
}

/// <summary>
/// <c>lstat</c> of one path: kind, permission bits, size and the (device, inode, link count) that identify hard links.
/// .NET exposes no inode numbers, so on Linux this calls <c>statx</c>, whose buffer layout is the same on every
/// architecture; elsewhere it falls back to .NET's file info with hard links reported as single links.
/// </summary>
public readonly partial record struct FileStatus(FileKind Kind, int Mode, long Size, ulong Device, ulong Inode,
    uint Links)
{
    public bool OwnerExecutable => (Mode & 0x40) != 0;

    /// <summary>The owner's user id (0 where the platform does not tell).</summary>
    public uint Uid { get; init; }

    /// <summary>The group id (0 where the platform does not tell).</summary>
    public uint Gid { get; init; }

    /// <summary><c>fstat</c> of an open file or folder (Linux).</summary>
    /// <exception cref="IOException">The handle cannot be examined.</exception>
    public static FileStatus Of(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Native.Statx((int)handle.DangerousGetHandle(), "", Native.AtEmptyPath, "(open file)");
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <exception cref="IOException">The path cannot be examined.</exception>
    public static FileStatus Lstat(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            return Native.Statx(Native.AtFdCwd, path, Native.AtSymlinkNoFollow, path);
        }

        var info = new FileInfo(path);
        if (!info.Exists && !Directory.Exists(path) && info.LinkTarget is null)
        {
            throw new FileNotFoundException($"{path}: no such file", path);
        }

        var kind = info.LinkTarget is not null ? FileKind.Symlink
            : info.Attributes.HasFlag(FileAttributes.Directory) ? FileKind.Directory
            : info.Attributes.HasFlag(FileAttributes.Device) ? FileKind.Other : FileKind.Regular;
        var mode = OperatingSystem.IsWindows() ? 0x1a4 : (int)info.UnixFileMode;
        return new FileStatus(kind, mode, kind == FileKind.Regular ? info.Length : 0, 0, 0, 1);
    }

    private static partial class Native
    {
        public const int AtFdCwd = -100;
        public const int AtSymlinkNoFollow = 0x100;
        public const int AtEmptyPath = 0x1000;
        private const uint StatxBasicStats = 0x7ff;

        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static unsafe partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

        public static unsafe FileStatus Statx(int dirfd, string path, int flags, string name)
        {
            var buffer = stackalloc byte[256];
            if (StatxNative(dirfd, path, flags, StatxBasicStats, buffer) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                var message = Marshal.GetPInvokeErrorMessage(errno);
                throw errno switch
                {
                    2 => new FileNotFoundException($"{name}: {message}", name),
                    20 => new DirectoryNotFoundException($"{name}: {message}"), // ENOTDIR: a part of the path is a file
                    _ => new IOException($"{name}: {message}"),
                };
            }

            // struct statx: nlink u32 @16, uid u32 @20, gid u32 @24, mode u16 @28, ino u64 @32, size u64 @40,
            // dev_major/minor u32 @136/@140.
            var links = *(uint*)(buffer + 16);
            var mode = *(ushort*)(buffer + 28);
            var inode = *(ulong*)(buffer + 32);
            var size = *(long*)(buffer + 40);
            var device = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
            var kind = (mode & 0xf000) switch
            {
                0x4000 => FileKind.Directory,
                0x8000 => FileKind.Regular,
                0xa000 => FileKind.Symlink,
                _ => FileKind.Other,
            };
            return new FileStatus(kind, mode & 0xfff, size, device, inode, links)
            {
                Uid = *(uint*)(buffer + 20),
                Gid = *(uint*)(buffer + 24),
            };
        }
    }
}
