using System.IO.Enumeration;
using System.Runtime.CompilerServices;

namespace Depot.Storage;

/// <summary>
/// A mirror in a local directory. Writes go to a hidden temporary file in the target folder and are renamed into
/// place, so a crash never leaves a partial object under its real name. Keys cannot escape the root.
/// </summary>
public sealed class LocalDirectoryStore : IObjectStore
{
    /// <summary>Temporary files start with this; listings skip them.</summary>
    internal const string TempPrefix = ".depot-tmp-";
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    private readonly string root;

    public LocalDirectoryStore(string root)
    {
        this.root = Path.GetFullPath(root);
    }

    public string Root => root;

    public string Describe(string key) => Path.Combine(root, key);

    public IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        Enumerate(prefix, (ref FileSystemEntry e, string key) => new StoreObject(key, e.Length, e.LastWriteTimeUtc), cancellationToken);

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
        var folder = folderKey.Length == 0 ? root : FullPath(folderKey.TrimEnd('/'));
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };
        var rootLength = root.Length + 1;
        var entries = new FileSystemEnumerable<(string Key, T Value)>(folder,
            (ref FileSystemEntry e) =>
            {
                var directory = e.Directory.Length > root.Length ? e.Directory[rootLength..] : ReadOnlySpan<char>.Empty;
                var key = directory.IsEmpty ? e.FileName.ToString() : string.Concat(directory, "/", e.FileName);
                return key.StartsWith(prefix, StringComparison.Ordinal) ? (key, transform(ref e, key)) : (key, default!);
            },
            options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory && !e.FileName.StartsWith(TempPrefix, StringComparison.Ordinal),
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
        var info = new FileInfo(FullPath(key));
        return Task.FromResult(info.Exists ? new StoreObject(key, info.Length, info.LastWriteTimeUtc, Version(info)) : null);
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = FullPath(key);
        try
        {
            Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StoreObjectNotFoundException(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DepotException($"{path}: permission denied", e);
        }
    }

    public Task<byte[]> ReadAllBytesAsync(string key, long maxBytes, CancellationToken cancellationToken = default)
    {
        // Small metadata files dominate listing and indexing: one synchronous read beats a stream per file.
        var path = FullPath(key);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
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
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StoreObjectNotFoundException(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DepotException($"{path}: permission denied", e);
        }
    }

    public async Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var path = FullPath(key);
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, TempPrefix + Guid.NewGuid().ToString("N")[..12] + "-" + Path.GetFileName(path));
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                             bufferSize: 1 << 16, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Conditional write under an fcntl lock on a file in the mirror folder, so writers on this machine (or sharing it
    /// over NFS with working locks) serialise the compare and the rename.
    /// </summary>
    public async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        var path = FullPath(key);
        Directory.CreateDirectory(root);

        // fcntl locks exclude other processes only: threads of this one queue on a semaphore per folder first.
        var gate = Gates.GetOrAdd(root, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await WriteUnderLockAsync(key, path, content, expectedVersion, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<bool> WriteUnderLockAsync(string key, string path, Stream content, string? expectedVersion, CancellationToken cancellationToken)
    {
        using var held = await InstallTree.PosixFileLock.AcquireAsync(Path.Combine(root, TempPrefix + "write.lock"), exclusive: true,
            TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        var info = new FileInfo(path);
        if ((info.Exists ? Version(info) : null) != expectedVersion)
        {
            return false;
        }

        await WriteAsync(key, content, cancellationToken).ConfigureAwait(false);
        return true;
    }

    // Size and modification time to the tick: a rename of a new file always changes the inode's ctime/mtime.
    private static string Version(FileInfo info) =>
        $"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}-{(OperatingSystem.IsLinux() ? Archive.FileStatus.Lstat(info.FullName).Inode : 0):x}";

    /// <summary>Stages in a temporary file inside the mirror folder, so commit is a rename on the same file system.</summary>
    public Task<IStagedObject> CreateStagedAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(root);
        return Task.FromResult<IStagedObject>(new StagedFile(this, Path.Combine(root, TempPrefix + Guid.NewGuid().ToString("N") + "-staged")));
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = FullPath(key);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        return Task.FromResult(true);
    }

    private string FullPath(string key)
    {
        return Path.Combine(root, StoreKeys.Check(key, root).Replace('/', Path.DirectorySeparatorChar));
    }

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

    private sealed class StagedFile(LocalDirectoryStore store, string temp) : IStagedObject
    {
        private readonly FileStream file = new(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        private bool committed;

        public Stream Content => file;

        public async Task CommitAsync(string key, CancellationToken cancellationToken = default)
        {
            var path = store.FullPath(key);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            await file.DisposeAsync().ConfigureAwait(false);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Move(temp, path, overwrite: true);
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
