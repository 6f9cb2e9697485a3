namespace Depot.Posix;

/// <summary>What a file operation that the system refused was doing with its path.</summary>
public enum PathUse
{
    /// <summary>Reading the file.</summary>
    Read,

    /// <summary>Opening the existing file for writing.</summary>
    Write,

    /// <summary>Making the file or folder (needs write permission on its folder).</summary>
    Create,

    /// <summary>Renaming onto it or removing it (write permission on its folder; in a sticky folder, owning
    /// it).</summary>
    Replace,

    /// <summary>Listing the folder.</summary>
    List,

    /// <summary>Making, renaming or removing files in the folder.</summary>
    WriteIn,
}

/// <summary>
/// Turns a refused file operation ("Access to the path … is denied.") into one line that names the path, the
/// permission that is missing and on which file or folder (the first folder on the way that cannot be searched, the
/// folder that cannot be written, the file that cannot be read), its owner, group and mode, and the fix: the
/// <c>chmod</c> to run when the file is the user's own, whom to ask otherwise. An I/O error (exit code of
/// <see cref="ErrorKind.IO"/>).
/// </summary>
public static class PermissionDenied
{
    /// <summary>The error for <paramref name="path"/>, refused while doing <paramref name="use"/>.</summary>
    public static DepotException Explain(string path, PathUse use, Exception? inner = null)
    {
        path = Path.GetFullPath(path);
        var verb = use switch
        {
            PathUse.Read => "cannot read it",
            PathUse.Write => "cannot write it",
            PathUse.Create => "cannot create it",
            PathUse.Replace => "cannot replace or remove it",
            PathUse.WriteIn => "cannot write in it",
            _ => "cannot list it",
        };
        string? reason = null;
        if (OperatingSystem.IsLinux())
        {
            try
            {
                reason = Diagnose(path, use);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the diagnosis is best effort
            }
        }

        reason ??= "permission denied (an access control list, a read-only export or a security module may refuse it)";
        return new DepotException(ErrorKind.IO, $"{path}: {verb}: {reason}", inner);
    }

    /// <summary>
    /// The message to show for <paramref name="e"/>: a refusal explained, anything else as
    /// <see cref="ErrorKinds.MessageOf"/> says it.
    /// </summary>
    public static string MessageOf(Exception e) =>
        e is UnauthorizedAccessException denied ? Explain(denied).Message : ErrorKinds.MessageOf(e);

    /// <summary>
    /// The error for a refusal caught where what was being done is not known (a host's last resort, a path deep in a
    /// library call): the path comes from .NET's message, the use from what the path is and what it lacks.
    /// </summary>
    public static DepotException Explain(UnauthorizedAccessException e, string? fallbackPath = null)
    {
        var path = PathOf(e, fallbackPath ?? "");
        if (path.Length == 0 || !OperatingSystem.IsLinux())
        {
            return new DepotException(ErrorKind.IO, fallbackPath is null ? e.Message : $"{fallbackPath}: {e.Message}",
                e);
        }

        PathUse use;
        try
        {
            var kind = Exists(path) ? FileStatus.Lstat(path).Kind : (FileKind?)null;
            use = kind switch
            {
                null => PathUse.Create,
                FileKind.Directory => !UnixAccounts.Allows(path, UnixAccounts.Access.Read) ? PathUse.List
                    : PathUse.WriteIn,
                _ => !UnixAccounts.Allows(path, UnixAccounts.Access.Read) ? PathUse.Read
                    : !UnixAccounts.Allows(path, UnixAccounts.Access.Write) ? PathUse.Write : PathUse.Replace,
            };
        }
        catch (IOException)
        {
            use = PathUse.Read;
        }

        return Explain(path, use, e);
    }

    /// <summary>
    /// The path a .NET "Access to the path '…' is denied." names, or <paramref name="fallback"/>: for errors raised
    /// where the path is not known to the caller (a folder deep in a listing).
    /// </summary>
    public static string PathOf(UnauthorizedAccessException e, string fallback)
    {
        var first = e.Message.IndexOf('\'', StringComparison.Ordinal);
        var last = e.Message.LastIndexOf('\'');
        return first >= 0 && last > first + 1 ? e.Message[(first + 1)..last] : fallback;
    }

    private static string? Diagnose(string path, PathUse use)
    {
        var folder = Path.GetDirectoryName(path);
        // The first folder on the way that cannot be searched hides everything below it.
        var ancestors = new List<string>();
        var start = use is PathUse.List or PathUse.WriteIn ? path : folder;
        for (var d = start; !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
        {
            ancestors.Add(d);
        }

        ancestors.Reverse();
        foreach (var dir in ancestors)
        {
            if (Exists(dir) && !UnixAccounts.Allows(dir, UnixAccounts.Access.Execute))
            {
                return Missing(dir, "search (x)", 'x');
            }
        }

        switch (use)
        {
            case PathUse.Read when Exists(path) && !UnixAccounts.Allows(path, UnixAccounts.Access.Read):
                return Missing(path, "read", 'r');
            case PathUse.List when Exists(path) && !UnixAccounts.Allows(path, UnixAccounts.Access.Read):
                return Missing(path, "read", 'r');
            case PathUse.Write when Exists(path) && !UnixAccounts.Allows(path, UnixAccounts.Access.Write):
                return Missing(path, "write", 'w');
            case PathUse.WriteIn when Exists(path) && !UnixAccounts.Allows(path, UnixAccounts.Access.Write):
                return Missing(path, "write", 'w');
            case PathUse.Create or PathUse.Replace when folder is not null && Exists(folder)
                && !UnixAccounts.Allows(folder, UnixAccounts.Access.Write):
                return Missing(folder, "write", 'w');
            case PathUse.Replace when folder is not null && Exists(path) && Exists(folder):
                var parent = FileStatus.Lstat(folder);
                var file = FileStatus.Lstat(path);
                if ((parent.Mode & 0x200) != 0 && file.Uid != UnixAccounts.UserId && parent.Uid != UnixAccounts.UserId)
                {
                    var owner = UnixAccounts.UserName(file.Uid);
                    return $"folder {folder} has the sticky bit (only a file's owner may replace it) and the file is "
                        + $"{owner}'s; fix: ask {owner} to remove it, or the folder's owner "
                        + $"({UnixAccounts.UserName(parent.Uid)}) or an admin to run `chmod -t {folder}`";
                }

                break;
        }

        return null;
    }

    // "no write permission on folder D (owner alice, group hpc, drwxr-xr-x); fix: …"
    private static string Missing(string target, string permission, char letter)
    {
        var status = FileStatus.Lstat(target);
        var what = status.Kind == FileKind.Directory ? "folder" : "file";
        var owner = UnixAccounts.UserName(status.Uid);
        var group = UnixAccounts.GroupName(status.Gid);
        var me = UnixAccounts.UserId;
        string fix;
        if (status.Uid == me)
        {
            fix = $"run `chmod u+{letter} {target}`";
        }
        else if (UnixAccounts.InGroup(status.Gid))
        {
            fix = $"ask {owner} (its owner) or an admin to run `chmod g+{letter} {target}`";
        }
        else if ((status.Mode & GroupBit(letter)) != 0)
        {
            fix = $"you ({UnixAccounts.UserName(me)}) are not in its group {group}: ask an admin to add you to it";
        }
        else
        {
            // Neither its owner's group nor anyone else may: adding the user to that group would not help.
            fix = $"it is {owner}'s alone: ask {owner} or an admin to share it with a group you are in "
                + $"(`chgrp GROUP {target} && chmod g+{letter} {target}`), or use another {what}";
        }

        return $"no {permission} permission on {what} {target} (owner {owner}, group {group}, "
            + $"{UnixAccounts.Describe(status.Kind, status.Mode)}); fix: {fix}";
    }

    private static int GroupBit(char letter) => letter switch { 'r' => 0x20, 'w' => 0x10, _ => 0x8 };

    private static bool Exists(string path)
    {
        try
        {
            FileStatus.Lstat(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
