using System.Runtime.InteropServices;

namespace Depot.InstallTree;

/// <summary>
/// A POSIX record lock (<c>fcntl</c> F_SETLK on the whole file), the lock Spack takes on <c>.spack-db/lock</c>.
/// .NET's own file locking uses <c>flock</c>, which on Linux does not conflict with <c>fcntl</c> locks, so the
/// call is made directly. Readers share, writers exclude; waiting polls with back-off up to a timeout.
/// </summary>
public sealed partial class PosixFileLock : IDisposable
{
    private const int SetLock = 6; // F_SETLK (Linux)
    private const short ReadLock = 0; // F_RDLCK
    private const short WriteLock = 1; // F_WRLCK
    private const short Unlock = 2; // F_UNLCK

    private readonly FileStream file;

    private PosixFileLock(FileStream file) => this.file = file;

    /// <summary>Takes a shared (read) or exclusive (write) lock on <paramref name="path"/>.</summary>
    /// <exception cref="DepotException">The lock could not be had within <paramref name="timeout"/>.</exception>
    public static async Task<PosixFileLock> AcquireAsync(string path, bool exclusive, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Spack install trees are locked with Linux fcntl locks");
        }

        var file = exclusive || !File.Exists(path)
            ? new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete)
            : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var deadline = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            if (TryLock(file, exclusive ? WriteLock : ReadLock))
            {
                return new PosixFileLock(file);
            }

            if (DateTime.UtcNow >= deadline)
            {
                await file.DisposeAsync().ConfigureAwait(false);
                throw new DepotException($"{path}: still locked by another process (a running spack?) after {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
        }
    }

    public void Dispose()
    {
        TryLock(file, Unlock);
        file.Dispose();
    }

    private static bool TryLock(FileStream file, short type)
    {
        var request = new Flock { Type = type, Whence = 0, Start = 0, Length = 0 };
        var fd = (int)file.SafeFileHandle.DangerousGetHandle();
        if (Fcntl(fd, SetLock, ref request) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno is 11 or 13 ? false // EAGAIN / EACCES: held by someone else
            : throw new IOException($"fcntl lock failed (errno {errno})");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, ref Flock request);
}
