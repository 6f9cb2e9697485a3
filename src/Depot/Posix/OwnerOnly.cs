namespace Depot.Posix;

/// <summary>
/// Folders and files only their owner may read: Depot's home (its keyring holds secret keys) and the secret keys
/// themselves. A secret key others can read is refused before it is used, as ssh refuses a readable private key:
/// whoever else could read it could sign as its owner.
/// </summary>
public static class OwnerOnly
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode ReadableByOthers = UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Creates <paramref name="path"/> owner-only (0700) when it does not exist; its missing parents are created as
    /// usual. An existing folder is left as its owner set it (an admin may share a home on purpose).
    /// </summary>
    public static void CreateFolder(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } parent)
        {
            Directory.CreateDirectory(parent);
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, Folder);
    }

    /// <summary>
    /// Refuses a secret key file that its group or others can read, with the command that fixes it.
    /// </summary>
    /// <exception cref="DepotException">The file is readable by group or others.</exception>
    public static void RequireUnreadableByOthers(string path, string what)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & ReadableByOthers) != 0)
        {
            throw new DepotException(ErrorKind.Trust,
                $"{path}: {what} is readable by {((mode & UnixFileMode.OtherRead) != 0 ? "everyone" : "its group")} "
                + $"(mode {Convert.ToString((int)mode & 0x1ff, 8).PadLeft(4, '0')}); refusing to use it: run "
                + $"`chmod 600 {path}`, and consider the key exposed if others could read it");
        }
    }
}
