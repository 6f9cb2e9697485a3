using Depot.Cli;

namespace Depot.Tests.Cli;

/// <summary>
/// Runs the CLI in-process with a given Depot home and captures what a user would see. The run sees only the
/// environment variables given (none by default), never this process's: tests run in parallel and set none.
/// With <c>DEPOT_TEST_BINARY=/path/to/depot</c> set for the test run, each run starts that binary instead (a Native
/// AOT or single-file build: the CLI tests then check what ships), with the same variables, <c>DEPOT_HOME</c> and
/// <c>HOME</c> set to the test's home; runs that count the engine's calls
/// (<see cref="Depot.Operations.MirrorAccess"/>) stay in-process.
/// </summary>
internal static class CliRun
{
    private static readonly string? Binary =
        Environment.GetEnvironmentVariable("DEPOT_TEST_BINARY") is { Length: > 0 } path ? path : null;

    public static Task<(int Code, string Out, string Err)> RunAsync(string home, params string[] args) =>
        RunAsync(home, new Dictionary<string, string>(), args);

    /// <summary>Runs <c>depot ARGS</c> with <paramref name="variables"/> as its whole environment.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(string home,
        IReadOnlyDictionary<string, string> variables, params string[] args)
    {
        if (Binary is not null)
        {
            return await RunBinaryAsync(Binary, home, variables, args);
        }

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Program.Run(args, stdout, stderr, home, environment: EnvironmentVariables.From(variables));
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// Runs <c>depot ARGS</c> with the engine reaching mirrors through <paramref name="access"/> (to count it).
    /// </summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(string home,
        Depot.Operations.MirrorAccess access, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Program.Run(args, stdout, stderr, home, interactive: false, access,
            EnvironmentVariables.Empty);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static async Task<(int Code, string Out, string Err)> RunBinaryAsync(string binary, string home,
        IReadOnlyDictionary<string, string> variables, string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        foreach (var (name, value) in variables)
        {
            start.Environment[name] = value;
        }

        start.Environment["DEPOT_HOME"] = home;
        start.Environment.TryAdd("HOME", home);

        // Programs depot starts (gpg) are found as in-process runs find them: on this process's PATH.
        start.Environment.TryAdd("PATH", Environment.GetEnvironmentVariable("PATH"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
