namespace Depot.Posix;

/// <summary>
/// An exclusive lock on a lock file that exists only while someone holds it, so a shared folder is left with no lock
/// file once every writer is done (and none survives in a copy of it). The protocol, for every holder:
/// <list type="number">
/// <item>create the file (under a name of its own, given its folder's mode — see <see cref="SharedModes"/> — so
/// every user who may write the folder may open it, then linked to the lock's name only if that is free), or open the
/// one there;</item>
/// <item>take an <see cref="PosixFileLock"/> on it;</item>
/// <item>check that the path still names the very file locked (same inode): a holder removes the file before it
/// unlocks, so one locked after its removal is stale, and the holder starts again;</item>
/// <item>when done, remove the file, then unlock.</item>
/// </list>
/// A file nobody may hold is only ever removed by someone holding a lock on it, so two holders never lock different
/// files under one name. A file that cannot be opened for writing (left by an older Depot, 0644 and another user's) is
/// opened for reading and read-locked instead, which excludes every writer; it is then removed and the protocol starts
/// again. A folder with the sticky bit may refuse the removal: the file stays (usable by the folder's writers, as its
/// mode is the folder's) and the next holder uses it.
/// </summary>
public sealed class TransientLockFile : IDisposable
{
    private readonly PosixFileLock held;
    private readonly string path;
    private readonly ulong inode;

    private TransientLockFile(PosixFileLock held, string path, ulong inode)
    {
        this.held = held;
        this.path = path;
        this.inode = inode;
    }

    /// <summary>
    /// Takes the lock at <paramref name="path"/>. <paramref name="checkPath"/> is called before an existing file is
    /// opened, <paramref name="checkOpened"/> on every file opened, before it is locked: each throws to refuse (a link,
    /// a file reached through one). Only a regular file is ever opened.
    /// </summary>
    /// <exception cref="DepotException">Still locked after <paramref name="timeout"/> (conflict); a permission the
    /// lock needs is missing (I/O, naming it).</exception>
    public static async Task<TransientLockFile> AcquireAsync(string path, Action checkPath,
        Action<FileStream> checkOpened, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var folder = FileStatus.Lstat(Path.GetDirectoryName(path)!);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (file, writable, vanished) = Open(path, folder, checkPath);
            if (file is null)
            {
                // removed meanwhile: create it (a name that keeps failing to be taken or opened is an error)
                if (DateTime.UtcNow > deadline)
                {
                    throw new DepotException(ErrorKind.IO, $"{path}: the lock file could not be created or opened "
                        + $"within {timeout.TotalSeconds:0} s: {vanished?.Message}", vanished);
                }

                continue;
            }

            try
            {
                checkOpened(file);
            }
            catch
            {
                await file.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            var left = deadline - DateTime.UtcNow;
            var locked = await PosixFileLock.AcquireAsync(file, path, exclusive: writable,
                left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            ulong inode;
            try
            {
                inode = FileStatus.Of(file.SafeFileHandle).Inode;
                if (!Names(path, inode))
                {
                    locked.Dispose();
                    continue; // removed by the holder before: a file nobody else will lock
                }
            }
            catch
            {
                locked.Dispose();
                throw;
            }

            if (writable)
            {
                return new TransientLockFile(locked, path, inode);
            }

            // A stale file this user cannot write: read-locked, so no writer holds it; remove it (if it is still the
            // one: another reader may have removed it and a writer made a fresh one) and start again. Two readers
            // removing the same stale file leave a window of a few instructions; it closes once the file is gone.
            try
            {
                if (Names(path, inode))
                {
                    File.Delete(path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DepotException(ErrorKind.IO, $"{path}: a lock file left by an earlier Depot that this user "
                    + "can neither write nor remove; fix: remove it (`rm " + path + "`) when no depot is running, "
                    + "as its owner or an admin", e);
            }
            finally
            {
                locked.Dispose();
            }
        }
    }

    /// <summary>Removes the file (while still holding the lock), then unlocks.</summary>
    public void Dispose()
    {
        try
        {
            if (Names(path, inode))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a sticky folder keeps another user's file: it stays, usable by the next holder
        }
        finally
        {
            held.Dispose();
        }
    }

    private static bool Names(string path, ulong inode)
    {
        try
        {
            var status = FileStatus.Lstat(path);
            return status.Kind == FileKind.Regular && status.Inode == inode;
        }
        catch (IOException)
        {
            return false;
        }
    }

    // Created with the folder's mode under a name of its own, then linked into place (File.Move without overwrite:
    // link and unlink, which never follows a link and fails when the name is taken), so no other user ever opens it
    // with the creator's umask mode; or the file there opened for writing, else for reading; (null, _) when it
    // vanished in between.
    private static (FileStream? File, bool Writable, Exception? Vanished) Open(string path, FileStatus folder,
        Action checkPath)
    {
        const FileShare Share = FileShare.ReadWrite | FileShare.Delete;
        var staged = path + "." + Guid.NewGuid().ToString("N")[..12];
        FileStream created;
        try
        {
            created = new FileStream(staged, FileMode.CreateNew, FileAccess.ReadWrite, Share);
        }
        catch (UnauthorizedAccessException e)
        {
            throw PermissionDenied.Explain(path, PathUse.Create, e);
        }

        try
        {
            SharedModes.Inherit(created.SafeFileHandle, folder);
            File.Move(staged, path, overwrite: false);
            return (created, true, null);
        }
        catch (IOException e)
        {
            // The name was taken: the file there is opened below; if its holder removed it meanwhile, start again.
            created.Dispose();
            File.Delete(staged);
            if (!Exists(path))
            {
                return (null, false, e);
            }
        }
        catch
        {
            created.Dispose();
            File.Delete(staged);
            throw;
        }

        checkPath();
        if (Kind(path) is not (FileKind.Regular or null))
        {
            throw new DepotException($"{path}: is not a regular file; remove it (Depot's lock file has this name)");
        }

        try
        {
            return (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, Share), true, null);
        }
        catch (FileNotFoundException e)
        {
            return (null, false, e);
        }
        catch (UnauthorizedAccessException)
        {
            // not ours and not writable: read-lock it to remove it
        }

        try
        {
            return (new FileStream(path, FileMode.Open, FileAccess.Read, Share), false, null);
        }
        catch (FileNotFoundException e)
        {
            return (null, false, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw PermissionDenied.Explain(path, PathUse.Write, e);
        }
    }

    private static bool Exists(string path) => Kind(path) is not null;

    private static FileKind? Kind(string path)
    {
        try
        {
            return FileStatus.Lstat(path).Kind;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
