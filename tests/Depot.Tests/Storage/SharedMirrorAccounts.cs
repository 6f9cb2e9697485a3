using System.Diagnostics;
using System.Globalization;

namespace Depot.Tests.Storage;

/// <summary>
/// Real Unix accounts for the shared-mirror tests: <c>depot-a</c> and <c>depot-b</c>, members of the group
/// <c>depot-share</c>, and <c>depot-c</c>, in no shared group. ./test.sh makes them; so does this class when they are
/// missing (the tests run as root, here and in CI), so one class runs on its own too. Not root: the tests fail, they
/// never skip. The built <c>depot</c> (Depot.Cli beside the tests) runs as each account through <c>setpriv</c>; when
/// the accounts cannot reach it (a build under a private folder), a copy they can read is made once.
/// </summary>
internal static class SharedMirrorAccounts
{
    public const string Group = "depot-share";
    public const string A = "depot-a";
    public const string B = "depot-b";
    public const string Outsider = "depot-c";

    private static readonly Lock Gate = new();
    private static bool made;
    private static readonly Lazy<string> Cli = new(ReachableCli);

    /// <summary>Makes the accounts and the group unless they exist; fails the test when not root.</summary>
    public static void Ensure()
    {
        if (Depot.Posix.UnixAccounts.UserId != 0)
        {
            Assert.Fail("the shared-mirror tests make Unix accounts (depot-a, depot-b, depot-c, group depot-share) and "
                + "run depot as them: run them as root, as ./test.sh and CI do");
        }

        lock (Gate)
        {
            if (made)
            {
                return;
            }

            if (Run("getent", "group", Group).Code != 0)
            {
                Check(Run("groupadd", Group), "groupadd");
            }

            foreach (var (user, shared) in new[] { (A, true), (B, true), (Outsider, false) })
            {
                if (Run("getent", "passwd", user).Code != 0)
                {
                    Check(Run("useradd", ["--no-create-home", "--home-dir", "/nonexistent", "--shell",
                        "/usr/sbin/nologin", .. shared ? new[] { "-G", Group } : [], user]), "useradd " + user);
                }
                else if (shared && !Run("id", "-nG", user).Out.Split(' ', '\n').Contains(Group))
                {
                    Check(Run("usermod", "-aG", Group, user), "usermod " + user);
                }
            }

            made = true;
        }
    }

    /// <summary>The numeric id of a group.</summary>
    public static uint GroupId(string group) =>
        uint.Parse(Run("getent", "group", group).Out.Split(':')[2], CultureInfo.InvariantCulture);

    /// <summary>Gives <paramref name="path"/> (recursively) to <paramref name="user"/>.</summary>
    public static void GiveTo(string user, string path) => Check(Run("chown", "-R", $"{user}:", path), "chown");

    /// <summary>Gives <paramref name="path"/> to <paramref name="group"/>.</summary>
    public static void Chgrp(string group, string path) => Check(Run("chgrp", group, path), "chgrp");

    /// <summary>Lets every account read <paramref name="path"/> (recursively) and search its folders.</summary>
    public static void MakeReadable(string path) => Check(Run("chmod", "-R", "a+rX", path), "chmod");

    /// <summary>
    /// Runs <c>depot ARGS</c> as <paramref name="user"/> (its own groups; umask <paramref name="umask"/>), with its
    /// own <paramref name="home"/> (DEPOT_HOME, HOME, and TMPDIR below it), which it must own.
    /// </summary>
    public static Process Start(string user, string umask, string home, params string[] args)
    {
        var gid = Run("id", "-g", user).Out.Trim();
        var start = new ProcessStartInfo("setpriv",
            ["--reuid", user, "--regid", gid, "--init-groups", "sh", "-c", $"umask {umask} && exec \"$0\" \"$@\"",
            Cli.Value, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DEPOT_HOME"] = home;
        start.Environment["HOME"] = home;
        start.Environment["TMPDIR"] = Path.Combine(home, "tmp");
        Directory.CreateDirectory(Path.Combine(home, "tmp"));
        GiveTo(user, home);
        return Process.Start(start)!;
    }

    /// <summary><see cref="Start"/>, waited for: exit code, output, error output.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(string user, string umask, string home,
        params string[] args)
    {
        using var process = Start(user, umask, home, args);
        return await Finish(process);
    }

    /// <summary>Waits for a process from <see cref="Start"/>.</summary>
    public static async Task<(int Code, string Out, string Err)> Finish(Process process)
    {
        var token = TestContext.Current.CancellationToken;
        var stdout = process.StandardOutput.ReadToEndAsync(token);
        var stderr = process.StandardError.ReadToEndAsync(token);
        await process.WaitForExitAsync(token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static (int Code, string Out) Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error);
    }

    private static void Check((int Code, string Out) result, string what)
    {
        Assert.True(result.Code == 0, $"{what} failed ({result.Code}): {result.Out}");
    }

    // The apphost beside the tests, when every folder above it lets others search it and its files are readable;
    // else a copy of the build output in a folder everyone can read (removed when the test process ends).
    private static string ReachableCli()
    {
        var here = AppContext.BaseDirectory.TrimEnd('/');
        var reachable = true;
        for (var dir = here; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            reachable &= (File.GetUnixFileMode(dir) & UnixFileMode.OtherExecute) != 0;
        }

        reachable &= Directory.EnumerateFiles(here).All(f =>
            (File.GetUnixFileMode(f) & UnixFileMode.OtherRead) != 0);
        if (reachable)
        {
            return Path.Combine(here, "Depot.Cli");
        }

        var copy = Path.Combine("/tmp", "depot-shared-cli-" + Guid.NewGuid().ToString("N")[..12]);
        Check(Run("cp", "-r", here, copy), "cp");
        MakeReadable(copy);
        Check(Run("chmod", "a+x", Path.Combine(copy, "Depot.Cli")), "chmod");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(copy, recursive: true);
        return Path.Combine(copy, "Depot.Cli");
    }
}
