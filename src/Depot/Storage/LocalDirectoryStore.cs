using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using Depot.Posix;
using Microsoft.Win32.SafeHandles;

namespace Depot.Storage;

/// <summary>
/// A mirror in a local directory. Writes go to a hidden temporary file in the target folder and are renamed into
/// place, so a crash never leaves a partial object under its real name. Keys cannot escape the root. A mirror shared
/// by several accounts works as its root's permissions say (see LocalDirectoryStore.Writes.cs); a refused file
/// operation is one line naming the file, the permission missing and the fix.
/// </summary>
public sealed partial class LocalDirectoryStore : IObjectStore, IStoreTemporaries
{
    /// <summary>Temporary files start with this; listings skip them.</summary>
    internal const string TempPrefix = ".depot-tmp-";
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

    /// <summary>Files named <c>.depot-tmp-*</c> at any depth (the index lock excepted), as keys under the
    /// root.</summary>
    public async IAsyncEnumerable<StoreObject> ListTemporaryAsync(
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        if (!Directory.Exists(root))
        {
            yield break;
        }

        var rootLength = root.Length + 1;
        var found = new FileSystemEnumerable<StoreObject>(root,
            (ref FileSystemEntry e) =>
            {
                var directory = e.Directory.Length > root.Length ? e.Directory[rootLength..] : ReadOnlySpan<char>.Empty;
                var key = directory.IsEmpty ? e.FileName.ToString() : string.Concat(directory, "/", e.FileName);
                return new StoreObject(key, e.Length, e.LastWriteTimeUtc);
            },
            new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) =>
                !e.IsDirectory && e.FileName.StartsWith(TempPrefix, StringComparison.Ordinal)
                && !e.FileName.SequenceEqual(LockName),
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        foreach (var temporary in found)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return temporary;
        }
    }

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
        using var entries = Listed(folder, () => new FileSystemEnumerable<(string Key, T Value)>(folder,
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
        }.GetEnumerator());
        while (Listed(folder, entries.MoveNext))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (key, value) = entries.Current;
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return value;
            }
        }
    }

    // A folder of the listing that cannot be read or searched: named, with the permission missing.
    private static TResult Listed<TResult>(string folder, Func<TResult> step)
    {
        try
        {
            return step();
        }
        catch (UnauthorizedAccessException e)
        {
            throw PermissionDenied.Explain(PermissionDenied.PathOf(e, folder), PathUse.List, e);
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

    /// <summary>A seek in the file opened under the same link rules as <see cref="OpenReadAsync"/>.</summary>
    public Task<Stream> OpenReadRangeAsync(string key, long offset, long? length,
        CancellationToken cancellationToken = default)
    {
        StoreRange.CheckArguments(offset, length);
        var handle = OpenForReading(key, FileOptions.Asynchronous | FileOptions.SequentialScan);
        try
        {
            var size = RandomAccess.GetLength(handle);
            if (offset > size)
            {
                throw new RangeNotSatisfiableException(Describe(key), offset, size);
            }

            var file = new FileStream(handle, FileAccess.Read, bufferSize: 1 << 16, isAsync: true);
            file.Seek(offset, SeekOrigin.Begin);
            return Task.FromResult<Stream>(length is { } n ? new LengthLimitedStream(file, n) : file);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
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
            throw PermissionDenied.Explain(path, PathUse.Read, e);
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

    // Size and modification time to the tick: a rename of a new file always changes the inode's ctime/mtime.
    private static string Version(FileInfo info) =>
        $"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}-"
        + $"{(OperatingSystem.IsLinux() ? FileStatus.Lstat(info.FullName).Inode : 0):x}";

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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
