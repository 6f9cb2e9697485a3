using System.Runtime.InteropServices;

namespace Depot.Posix;

/// <summary>
/// A record lock on a file or a byte range of it, of the kind Spack takes on <c>.spack-db/lock</c> and
/// <c>.spack-db/prefix_lock</c>. It is an open-file-description lock (<c>fcntl</c> F_OFD_SETLK): it conflicts with
/// the classic <c>fcntl</c>/<c>lockf</c> locks Spack (Python) takes, and, unlike those, belongs to this lock's own
/// open file rather than to the whole process, so two holders in one process exclude each other too and closing an
/// unrelated descriptor of the same file does not drop it. (.NET's own file locking uses <c>flock</c>, which does not
/// conflict with <c>fcntl</c> locks at all.) Readers share, writers exclude; waiting polls with back-off up to a
/// timeout and can be cancelled.
/// </summary>
public sealed partial class PosixFileLock : IDisposable
{
    private const int SetLock = 37; // F_OFD_SETLK (Linux; F_OFD_SETLKW, 38, would block a thread uncancellably)
    private const short ReadLock = 0; // F_RDLCK
    private const short WriteLock = 1; // F_WRLCK
    private const short Unlock = 2; // F_UNLCK

    private readonly FileStream file;
    private readonly long start;
    private readonly long length;
    private bool released;

    private PosixFileLock(FileStream file, long start, long length)
    {
        this.file = file;
        this.start = start;
        this.length = length;
    }

    /// <summary>
    /// Takes a shared (read) or exclusive (write) lock on <paramref name="path"/>: the whole file, or with
    /// <see cref="AcquireRangeAsync"/> a byte range (Spack's per-spec prefix locks are one byte each).
    /// </summary>
    /// <exception cref="DepotException">The lock could not be had within <paramref name="timeout"/>.</exception>
    public static Task<PosixFileLock> AcquireAsync(string path, bool exclusive, TimeSpan timeout,
        CancellationToken cancellationToken = default) =>
        AcquireRangeAsync(path, exclusive, timeout, 0, 0, cancellationToken);

    /// <summary>A lock on <paramref name="length"/> bytes at <paramref name="start"/> (length 0: to the end of
    /// the file).</summary>
    /// <exception cref="DepotException">The lock could not be had within <paramref name="timeout"/>.</exception>
    public static async Task<PosixFileLock> AcquireRangeAsync(string path, bool exclusive, TimeSpan timeout, long start,
        long length, CancellationToken cancellationToken = default)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new DepotException(ErrorKind.Unsupported, "Spack install trees are locked with Linux fcntl locks");
        }

        var exists = File.Exists(path);
        FileStream file;
        try
        {
            file = exclusive || !exists
                ? new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite,
                    FileShare.ReadWrite | FileShare.Delete)
                : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (UnauthorizedAccessException e)
        {
            var use = !exists ? PathUse.Create : exclusive ? PathUse.Write : PathUse.Read;
            throw PermissionDenied.Explain(path, use, e);
        }

        return await LockAsync(file, path, exclusive, timeout, start, length, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A whole-file lock on a file the caller opened (read-write for an exclusive lock), e.g. one opened without
    /// following links; the lock owns <paramref name="file"/> from here on.
    /// </summary>
    /// <exception cref="DepotException">The lock could not be had within <paramref name="timeout"/>.</exception>
    public static Task<PosixFileLock> AcquireAsync(FileStream file, string path, bool exclusive, TimeSpan timeout,
        CancellationToken cancellationToken = default) =>
        LockAsync(file, path, exclusive, timeout, 0, 0, cancellationToken);

    private static async Task<PosixFileLock> LockAsync(FileStream file, string path, bool exclusive, TimeSpan timeout,
        long start, long length, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            if (TryLock(file, exclusive ? WriteLock : ReadLock, start, length))
            {
                return new PosixFileLock(file, start, length);
            }

            if (DateTime.UtcNow >= deadline)
            {
                await file.DisposeAsync().ConfigureAwait(false);
                throw new DepotException(ErrorKind.Conflict,
                    $"{path}: still locked by another process (a running spack?) after {timeout.TotalSeconds:0.#} s");
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
        }
    }

    public void Dispose()
    {
        if (released)
        {
            return;
        }

        released = true;
        TryLock(file, Unlock, start, length);
        file.Dispose();
    }

    private static bool TryLock(FileStream file, short type, long start, long length)
    {
        // Pid must be 0 for an open-file-description lock.
        var request = new Flock { Type = type, Whence = 0, Start = start, Length = length, Pid = 0 };
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
