using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using Depot.Posix;
using Microsoft.Win32.SafeHandles;

namespace Depot.Storage;

/// <summary>
/// A mirror in a local directory. Writes go to a hidden temporary file in the target folder and are renamed into
/// place, so a crash never leaves a partial object under its real name. Keys cannot escape the root.
/// </summary>
public sealed class LocalDirectoryStore : IObjectStore
{
    /// <summary>Temporary files start with this; listings skip them.</summary>
    internal const string TempPrefix = ".depot-tmp-";
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates =
        new(StringComparer.Ordinal);

    private const string LockName = TempPrefix + "write.lock";

    private readonly string root;
    private string? realRoot;

    public LocalDirectoryStore(string root)
    {
        this.root = Path.GetFullPath(root);
    }

    public string Root => root;

    public string Describe(string key) => Path.Combine(root, key);

    public IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        Enumerate(prefix, (ref FileSystemEntry e, string key) => new StoreObject(key, e.Length, e.LastWriteTimeUtc),
            cancellationToken);

    public IAsyncEnumerable<string> ListKeysAsync(string prefix, CancellationToken cancellationToken = default) =>
        Enumerate(prefix, (ref FileSystemEntry _, string key) => key, cancellationToken);

    private delegate T EntryTransform<T>(ref FileSystemEntry entry, string key);

    private async IAsyncEnumerable<T> Enumerate<T>(string prefix, EntryTransform<T> transform,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        // Walk only the deepest folder the prefix names, then filter on the rest of the prefix.
        var slash = prefix.LastIndexOf('/');
        var folderKey = slash < 0 ? "" : prefix[..(slash + 1)];
        var folder = folderKey.Length == 0 ? root : CheckedPath(folderKey.TrimEnd('/'));
        if (folderKey.Length > 0)
        {
            // every folder of the prefix, not its last part
            MirrorLinks.CheckFolders(root, folderKey + "-", create: false);
        }

        if (!Directory.Exists(folder))
        {
            yield break;
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = false,
            AttributesToSkip = 0,
        };
        var rootLength = root.Length + 1;
        var entries = new FileSystemEnumerable<(string Key, T Value)>(folder,
            (ref FileSystemEntry e) =>
            {
                var directory = e.Directory.Length > root.Length ? e.Directory[rootLength..] : ReadOnlySpan<char>.Empty;
                var key = directory.IsEmpty ? e.FileName.ToString() : string.Concat(directory, "/", e.FileName);
                return key.StartsWith(prefix, StringComparison.Ordinal) ? (key, transform(ref e, key))
                    : (key, default!);
            },
            options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) =>
                !e.IsDirectory && !e.FileName.StartsWith(TempPrefix, StringComparison.Ordinal),
            // A linked folder is not walked into (its keys would be outside the mirror); a linked file is listed, and
            // reading it names the link.
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        foreach (var (key, value) in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return value;
            }
        }
    }

    public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = CheckedPath(key);
        MirrorLinks.CheckFolders(root, key, create: false);
        if (MirrorLinks.CheckObject(path) is null)
        {
            return Task.FromResult<StoreObject?>(null);
        }

        var info = new FileInfo(path);
        return Task.FromResult(info.Exists ? new StoreObject(key, info.Length, info.LastWriteTimeUtc, Version(info))
            : null);
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var handle = OpenForReading(key, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Task.FromResult<Stream>(new FileStream(handle, FileAccess.Read, bufferSize: 1 << 16, isAsync: true));
    }

    public Task<byte[]> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken = default)
    {
        // Small metadata files dominate listing and indexing: one synchronous read beats a stream per file.
        using var handle = OpenForReading(key, FileOptions.None);
        var path = Describe(key);
        var length = RandomAccess.GetLength(handle);
        if (length > maxBytes)
        {
            throw new InvalidContentException(path, $"larger than the {maxBytes >> 20} MiB allowed");
        }

        var bytes = new byte[length];
        var done = 0;
        while (done < bytes.Length)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(done), done);
            if (n == 0)
            {
                return Task.FromResult(bytes[..done]);
            }

            done += n;
        }

        return Task.FromResult(bytes);
    }

    // The object itself must be a regular file (not a link, not a FIFO); the file opened must be the one inside the
    // root.
    private SafeFileHandle OpenForReading(string key, FileOptions options)
    {
        var path = CheckedPath(key);
        if (!OperatingSystem.IsLinux())
        {
            MirrorLinks.CheckFolders(root, key, create: false); // Linux checks the file actually opened instead
        }

        if (MirrorLinks.CheckObject(path) is null)
        {
            throw new StoreObjectNotFoundException(path);
        }

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, options);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StoreObjectNotFoundException(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DepotException(ErrorKind.IO, $"{path}: permission denied", e);
        }

        try
        {
            MirrorLinks.CheckOpened(handle, RealPathOf(key), root, key);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public async Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var path = PrepareWrite(key);
        var name = TempPrefix + Guid.NewGuid().ToString("N")[..12] + "-" + Path.GetFileName(path);
        var temp = Path.Combine(Path.GetDirectoryName(path)!, name);
        var tempKey = key[..(key.LastIndexOf('/') + 1)] + name;
        try
        {
            // CreateNew is O_CREAT|O_EXCL: it never follows a link at the temporary name.
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                             bufferSize: 1 << 16, FileOptions.Asynchronous))
            {
                MirrorLinks.CheckOpened(file.SafeFileHandle, RealPathOf(tempKey), root, tempKey);
                await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
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

    /// <summary>The compare and the rename happen under one lock.</summary>
    public bool ConditionalWritesAreAtomic => true;

    /// <summary>
    /// Conditional write under an fcntl lock on a file in the mirror folder, so writers on this machine (or sharing it
    /// over NFS with working locks) serialise the compare and the rename.
    /// </summary>
    public async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        var path = CheckedPath(key);
        Directory.CreateDirectory(root);

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
        using var held = await PosixFileLock.AcquireAsync(OpenLockFile(), Path.Combine(root, LockName), exclusive: true,
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

    // The lock file in the root, opened without following a link: made with O_EXCL, else opened only once it is
    // known to be a regular file, and checked again once open (a link swapped in meanwhile is refused, and opening an
    // existing file never creates one at a link's target).
    private FileStream OpenLockFile()
    {
        var path = Path.Combine(root, LockName);
        FileStream? file = null;
        try
        {
            file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite,
                FileShare.ReadWrite | FileShare.Delete);
        }
        catch (IOException) when (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            // There already (an exception filter must not throw: the link is refused here).
            if (MirrorLinks.CheckObject(path) is null)
            {
                throw;
            }
        }

        file ??= new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

        try
        {
            MirrorLinks.CheckOpened(file.SafeFileHandle, RealPathOf(LockName), root, LockName);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    // Size and modification time to the tick: a rename of a new file always changes the inode's ctime/mtime.
    private static string Version(FileInfo info) =>
        $"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}-"
        + $"{(OperatingSystem.IsLinux() ? FileStatus.Lstat(info.FullName).Inode : 0):x}";

    /// <summary>Stages in a temporary file inside the mirror folder, so commit is a rename on the same file
    /// system.</summary>
    public Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(root);
        var name = TempPrefix + Guid.NewGuid().ToString("N") + "-staged";
        var file = new FileStream(Path.Combine(root, name), FileMode.CreateNew, FileAccess.Write, FileShare.None,
            1 << 16, FileOptions.Asynchronous);
        try
        {
            MirrorLinks.CheckOpened(file.SafeFileHandle, RealPathOf(name), root, name);
        }
        catch
        {
            file.Dispose();
            TryDelete(Path.Combine(root, name));
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

        File.Delete(path);
        return Task.FromResult(true);
    }

    /// <summary>The path of a key, its folders made (none of them may be a link), and no link at the key
    /// itself.</summary>
    private string PrepareWrite(string key)
    {
        var path = CheckedPath(key);
        Directory.CreateDirectory(root);
        MirrorLinks.CheckFolders(root, key, create: true);
        MirrorLinks.CheckObject(path);
        return path;
    }

    // The last checks before the rename (which replaces whatever is at the key and never follows a link there).
    private void Publish(string temp, string key, string path)
    {
        MirrorLinks.CheckFolders(root, key, create: false);
        MirrorLinks.CheckObject(path);
        File.Move(temp, path, overwrite: true);
    }

    private string CheckedPath(string key)
    {
        return Path.Combine(root, StoreKeys.Check(key, root).Replace('/', Path.DirectorySeparatorChar));
    }

    // Where the key is once every link in the root's own path is resolved (once: the root is the admin's choice).
    private string RealPathOf(string key) => (realRoot ??= MirrorLinks.RealPath(root)) + "/" + key;

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
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
