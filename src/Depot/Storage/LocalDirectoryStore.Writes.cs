using Depot.Posix;

namespace Depot.Storage;

/// <summary>
/// Writes to a local mirror, made for a mirror several accounts share (the usual HPC case: a root owned by a group,
/// <c>chmod g+ws</c>). What Depot creates below the root takes its group and permission bits from the folder it is made
/// in (<see cref="SharedModes"/>), whatever the writer's umask: a folder appears under its name only once its mode is
/// set (made under a temporary name, then renamed), and a file is given its mode before it is renamed into place. The
/// root itself is the admin's: made as <c>mkdir -p</c> would when missing, never changed. The lock that serialises
/// conditional writes (the index) is a file that exists only while held (<see cref="TransientLockFile"/>), so no lock
/// file is left in the mirror. A refused operation names the file, the permission and the fix
/// (<see cref="PermissionDenied"/>).
/// </summary>
public sealed partial class LocalDirectoryStore
{
    private const string LockName = TempPrefix + "write.lock";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates =
        new(StringComparer.Ordinal);

    public async Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var path = PrepareWrite(key);
        var name = TempPrefix + Guid.NewGuid().ToString("N")[..12] + "-" + Path.GetFileName(path);
        var folder = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(folder, name);
        var tempKey = key[..(key.LastIndexOf('/') + 1)] + name;
        try
        {
            // CreateNew is O_CREAT|O_EXCL: it never follows a link at the temporary name.
            await using (var file = CreateFile(temp, path, PathUse.Create))
            {
                MirrorLinks.CheckOpened(file.SafeFileHandle, RealPathOf(tempKey), root, tempKey);
                InheritModes(file, folder);
                await CopyInPiecesAsync(content, file, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            Publish(temp, key, path);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    // A MemoryStream copies itself in one write, whatever the buffer size asked; one write of tens of megabytes is
    // several times slower than the same bytes in 64 KiB writes on some kernels (the bench machine: 100 ms against 10
    // for a 29 MB index).
    private static async Task CopyInPiecesAsync(Stream content, Stream file, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(0, 1 << 16), cancellationToken)
                .ConfigureAwait(false)) > 0)
            {
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The compare and the rename happen under one lock.</summary>
    public bool ConditionalWritesAreAtomic => true;

    /// <summary>
    /// Conditional write under an fcntl lock on a file in the mirror folder, so writers on this machine (or sharing it
    /// over NFS with working locks) serialise the compare and the rename. The lock file is removed by its holder before
    /// it unlocks (see <see cref="TransientLockFile"/>).
    /// </summary>
    public async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        var path = CheckedPath(key);
        MakeRoot();

        // fcntl locks exclude other processes only: threads of this one queue on a semaphore per folder first.
        var gate = Gates.GetOrAdd(root, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await WriteUnderLockAsync(key, path, content, expectedVersion, cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<bool> WriteUnderLockAsync(string key, string path, Stream content, string? expectedVersion,
        CancellationToken cancellationToken)
    {
        // The lock file in the root, never reached through a link: refused when the name is a link, and the file
        // opened checked again (a link swapped in meanwhile is refused; O_EXCL never creates at a link's target).
        var lockPath = Path.Combine(root, LockName);
        using var held = await TransientLockFile.AcquireAsync(lockPath, () => MirrorLinks.CheckObject(lockPath),
            file => MirrorLinks.CheckOpened(file.SafeFileHandle, RealPathOf(LockName), root, LockName),
            TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        MirrorLinks.CheckFolders(root, key, create: false);
        var current = MirrorLinks.CheckObject(path) is null ? null : new FileInfo(path);
        if ((current is { Exists: true } ? Version(current) : null) != expectedVersion)
        {
            return false;
        }

        await WriteAsync(key, content, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Stages in a temporary file inside the mirror folder, so commit is a rename on the same file
    /// system.</summary>
    public Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default)
    {
        MakeRoot();
        var name = TempPrefix + Guid.NewGuid().ToString("N") + "-staged";
        var path = Path.Combine(root, name);
        // Refused, it names the mirror's folder (the staged name means nothing to the user).
        var file = CreateFile(path, root, PathUse.WriteIn);
        try
        {
            MirrorLinks.CheckOpened(file.SafeFileHandle, RealPathOf(name), root, name);
        }
        catch
        {
            file.Dispose();
            TryDelete(path);
            throw;
        }

        return Task.FromResult<IStagedObject>(new StagedFile(this, file));
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = CheckedPath(key);
        MirrorLinks.CheckFolders(root, key, create: false);
        if (MirrorLinks.CheckObject(path) is null)
        {
            return Task.FromResult(false);
        }

        try
        {
            File.Delete(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Refused(path, PathUse.Replace, e);
        }

        return Task.FromResult(true);
    }

    /// <summary>The path of a key, its folders made (none of them may be a link), and no link at the key
    /// itself.</summary>
    private string PrepareWrite(string key)
    {
        var path = CheckedPath(key);
        MakeRoot();
        MirrorLinks.CheckFolders(root, key, create: true, MakeFolder);
        MirrorLinks.CheckObject(path);
        return path;
    }

    // The last checks before the rename (which replaces whatever is at the key and never follows a link there).
    private void Publish(string temp, string key, string path)
    {
        MirrorLinks.CheckFolders(root, key, create: false);
        MirrorLinks.CheckObject(path);
        try
        {
            File.Move(temp, path, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Refused(path, PathUse.Replace, e);
        }
    }

    private void MakeRoot()
    {
        try
        {
            Directory.CreateDirectory(root);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Refused(root, PathUse.Create, e);
        }
    }

    // A new file (O_EXCL) to write; refused, it names what was meant: the object (the temporary name means nothing to
    // the user), or the folder.
    private FileStream CreateFile(string path, string meant, PathUse use)
    {
        try
        {
            return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16,
                FileOptions.Asynchronous);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Refused(meant, use, e);
        }
    }

    // A folder below the root: made under a temporary name, given its folder's group and mode, then renamed to its
    // name unless another writer made it meanwhile (theirs is used). So nobody ever sees it with the writer's umask.
    private void MakeFolder(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var parent = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(parent, TempPrefix + Guid.NewGuid().ToString("N")[..12] + "-dir");
        var tempKey = Path.GetRelativePath(root, temp).Replace(Path.DirectorySeparatorChar, '/');
        try
        {
            Directory.CreateDirectory(temp);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Refused(path, PathUse.Create, e);
        }

        try
        {
            using (var handle = SharedModes.OpenFolder(temp))
            {
                MirrorLinks.CheckOpened(handle, RealPathOf(tempKey), root, tempKey);
                SharedModes.Inherit(handle, FileStatus.Lstat(parent));
            }

            if (!SharedModes.MoveFolderNoReplace(temp, path))
            {
                Directory.Delete(temp);
            }
        }
        catch (UnauthorizedAccessException e)
        {
            TryDeleteFolder(temp);
            throw Refused(path, PathUse.Create, e);
        }
        catch
        {
            TryDeleteFolder(temp);
            throw;
        }
    }

    // A refusal explained; when the root itself refuses this user, every write would be refused alike: the run stops.
    private DepotException Refused(string path, PathUse use, Exception e)
    {
        var explained = PermissionDenied.Explain(path, use, e);
        return !OperatingSystem.IsLinux() || UnixAccounts.Allows(root, UnixAccounts.Access.Write
            | UnixAccounts.Access.Execute) ? explained : new MirrorNotWritableException(root, explained.Message, e);
    }

    private static void InheritModes(FileStream file, string folder)
    {
        if (OperatingSystem.IsLinux())
        {
            SharedModes.Inherit(file.SafeFileHandle, FileStatus.Lstat(folder));
        }
    }

    private static void TryDeleteFolder(string path)
    {
        try
        {
            Directory.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    private sealed class StagedFile(LocalDirectoryStore store, FileStream file) : IStagedObject
    {
        private readonly string temp = file.Name;
        private bool committed;

        public Stream Content => file;

        public async Task CommitAsync(string key, CancellationToken cancellationToken = default)
        {
            var path = store.PrepareWrite(key);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            InheritModes(file, Path.GetDirectoryName(path)!);
            await file.DisposeAsync().ConfigureAwait(false);
            store.Publish(temp, key, path);
            committed = true;
        }

        public async ValueTask DisposeAsync()
        {
            await file.DisposeAsync().ConfigureAwait(false);
            if (!committed)
            {
                TryDelete(temp);
            }
        }
    }
}
