using System.Diagnostics;

namespace Depot.Signing;

/// <summary>
/// Reads keys out of a gpg home (Spack keeps its keys in one) by running the gpg binary: the one path where Depot
/// uses gpg, since gpg's keybox and private-key formats are gpg's own.
/// </summary>
public static class GpgExport
{
    /// <returns>Armored public keys followed by armored secret keys.</returns>
    /// <exception cref="DepotException">No gpg binary, or gpg failed.</exception>
    public static string ExportAll(string gpgHome)
    {
        if (!Directory.Exists(gpgHome))
        {
            throw new DepotException(ErrorKind.NotFound, $"{gpgHome}: no such gpg home directory");
        }

        var publicKeys = Run(gpgHome, "--armor", "--export");
        var secretKeys = Run(gpgHome, "--armor", "--export-secret-keys");
        if (string.IsNullOrWhiteSpace(publicKeys) && string.IsNullOrWhiteSpace(secretKeys))
        {
            throw new DepotException(ErrorKind.NotFound, $"{gpgHome}: gpg home holds no keys");
        }

        return publicKeys + "\n" + secretKeys;
    }

    private static string Run(string home, params string[] args)
    {
        var start = new ProcessStartInfo("gpg")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--batch", "--homedir", home, "--pinentry-mode", "loopback", "--passphrase", "",
            .. args])
        {
            start.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new DepotException(ErrorKind.IO, "cannot start gpg");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new DepotException(ErrorKind.Unsupported,
                "importing from a gpg home needs the gpg binary, which is not installed (e.g. apt-get install gnupg); "
                + "or export the keys with gpg elsewhere and import the file", new ErrorHint(HintAction.ImportKeyFile));
        }

        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);
                throw new DepotException(ErrorKind.IO, $"gpg --homedir {home} did not finish in 2 minutes");
            }

            if (process.ExitCode != 0)
            {
                var firstLine = error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
                throw new DepotException(ErrorKind.IO,
                    $"gpg --homedir {home} {string.Join(' ', args)} failed: {firstLine}");
            }

            return output.Result;
        }
    }
}
