using System.Runtime.InteropServices;

namespace Depot.Posix;

/// <summary>
/// Who this process is and what it may do, as the kernel decides it: the effective user and groups, names of users and
/// groups through the system's name service (so LDAP accounts are named too), and <c>faccessat</c> checks. Linux.
/// </summary>
public static partial class UnixAccounts
{
    private const int AtFdCwd = -100;
    private const int AtEaccess = 0x200;

    /// <summary>What a file or folder must allow.</summary>
    [Flags]
    public enum Access
    {
        Execute = 1,
        Write = 2,
        Read = 4,
    }

    /// <summary>The effective user id.</summary>
    public static uint UserId => GetEuid();

    /// <summary>True when this process, as its effective user and groups, has <paramref name="access"/> on
    /// <paramref name="path"/> (links followed).</summary>
    public static bool Allows(string path, Access access) => FacCessAt(AtFdCwd, path, (int)access, AtEaccess) == 0;

    /// <summary>True when <paramref name="gid"/> is this process's effective group or one of its supplementary
    /// groups.</summary>
    public static unsafe bool InGroup(uint gid)
    {
        if (GetEgid() == gid)
        {
            return true;
        }

        var count = GetGroups(0, null);
        if (count <= 0)
        {
            return false;
        }

        var groups = new uint[count];
        fixed (uint* list = groups)
        {
            count = GetGroups(groups.Length, list);
        }

        return groups.AsSpan(0, Math.Max(0, count)).Contains(gid);
    }

    /// <summary>The user's name, or its number when the name service knows none.</summary>
    public static string UserName(uint uid) => NameAt(GetPwUid(uid)) ?? uid.ToString(
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The group's name, or its number when the name service knows none.</summary>
    public static string GroupName(uint gid) => NameAt(GetGrGid(gid)) ?? gid.ToString(
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Mode bits as <c>ls -l</c> shows them (<c>drwxrwsr-x</c>).</summary>
    public static string Describe(FileKind kind, int mode)
    {
        var chars = new char[10];
        chars[0] = kind switch
        {
            FileKind.Directory => 'd',
            FileKind.Symlink => 'l',
            FileKind.Regular => '-',
            _ => '?',
        };
        const string Rwx = "rwx";
        for (var i = 0; i < 9; i++)
        {
            chars[1 + i] = (mode & (0x100 >> i)) != 0 ? Rwx[i % 3] : '-';
        }

        chars[3] = Special(chars[3], (mode & 0x800) != 0, 's');
        chars[6] = Special(chars[6], (mode & 0x400) != 0, 's');
        chars[9] = Special(chars[9], (mode & 0x200) != 0, 't');
        return new string(chars);
    }

    private static char Special(char current, bool set, char letter) =>
        !set ? current : current == '-' ? char.ToUpperInvariant(letter) : letter;

    // struct passwd and struct group both begin with the name (char *), on every Linux ABI.
    private static string? NameAt(nint entry) =>
        entry == 0 ? null : Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(entry));

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    private static partial uint GetEgid();

    [LibraryImport("libc", EntryPoint = "getgroups")]
    private static unsafe partial int GetGroups(int size, uint* list);

    [LibraryImport("libc", EntryPoint = "getpwuid")]
    private static partial nint GetPwUid(uint uid);

    [LibraryImport("libc", EntryPoint = "getgrgid")]
    private static partial nint GetGrGid(uint gid);

    [LibraryImport("libc", EntryPoint = "faccessat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FacCessAt(int dirfd, string path, int mode, int flags);
}
