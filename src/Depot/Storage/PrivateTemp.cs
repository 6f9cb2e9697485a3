namespace Depot.Storage;

/// <summary>
/// Files Depot keeps outside a mirror while it works (objects staged for upload, downloads spooled to disk): package
/// contents, possibly private. They go in a folder made for this process only (<c>mkdtemp</c>: mode 0700, a fresh
/// random name, so nothing planted in a shared <c>/tmp</c> is reused) and are created owner-only (0600) with
/// <c>O_EXCL</c>. The folder is removed when the process exits.
/// </summary>
public static class PrivateTemp
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly Lazy<string> Shared = new(CreateFolder);

    /// <summary>This process's private temporary folder (made on first use).</summary>
    public static string Folder => Shared.Value;

    /// <summary>A new owner-only file named <paramref name="prefix"/>-&lt;random&gt;, read-write, deleted on
    /// close.</summary>
    public static FileStream CreateFile(string prefix, FileOptions options = FileOptions.Asynchronous) =>
        new(Path.Combine(Folder, $"{prefix}-{Guid.NewGuid():N}"), new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 1 << 16,
            Options = options | FileOptions.DeleteOnClose,
            UnixCreateMode = OwnerOnly,
        });

    private static string CreateFolder()
    {
        var folder = Directory.CreateTempSubdirectory("depot-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return folder;
    }
}
