using System.Diagnostics;

namespace Depot.Tests.Signing;

/// <summary>A throwaway GnuPG home for interoperability tests with the real gpg binary; the agent is stopped on
/// dispose.</summary>
public sealed class GpgHome : IDisposable
{
    private readonly TempDir temp = new();

    public GpgHome()
    {
        Path = temp.Combine("gnupg");
        Directory.CreateDirectory(Path);
        File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Path { get; }

    public string FilePath(string name) => temp.Combine(name);

    /// <summary>Runs gpg in batch mode with this home; returns exit code and combined output.</summary>
    public (int Code, string Output) Run(params string[] args) => RunWithInput(null, args);

    /// <summary>Runs gpg with <paramref name="input"/> on its standard input (e.g. <c>--command-fd 0
    /// --edit-key</c>).</summary>
    public (int Code, string Output) RunWithInput(string? input, params string[] args)
    {
        var start = new ProcessStartInfo("gpg")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--batch", "--homedir", Path, "--pinentry-mode", "loopback", "--passphrase", "",
            .. args])
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start gpg");
        if (input is not null)
        {
            process.StandardInput.Write(input);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("gpg did not finish in 60 s: " + string.Join(' ', args));
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>The fingerprints of a key and its subkeys, primary first, as <c>gpg --with-colons</c> lists
    /// them.</summary>
    public IReadOnlyList<string> Fingerprints(string user) =>
        RunOk("--with-colons", "--list-keys", user).Split('\n')
            .Where(l => l.StartsWith("fpr:", StringComparison.Ordinal))
            .Select(l => l.Split(':')[9])
            .ToList();

    public string RunOk(params string[] args)
    {
        var (code, output) = Run(args);
        Assert.True(code == 0, $"gpg {string.Join(' ', args)} failed ({code}): {output}");
        return output;
    }

    public void Dispose()
    {
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("gpgconf", ["--homedir", Path, "--kill", "gpg-agent"])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            });
            kill?.WaitForExit(10_000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }

        temp.Dispose();
    }
}
