using Depot.Cli;

namespace Depot.Tests.Cli;

/// <summary>
/// Runs the CLI in-process with a given Depot home and captures what a user would see. The run sees only the
/// environment variables given (none by default), never this process's: tests run in parallel and set none.
/// </summary>
internal static class CliRun
{
    public static Task<(int Code, string Out, string Err)> RunAsync(string home, params string[] args) =>
        RunAsync(home, new Dictionary<string, string>(), args);

    /// <summary>Runs <c>depot ARGS</c> with <paramref name="variables"/> as its whole environment.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(string home,
        IReadOnlyDictionary<string, string> variables, params string[] args)
    {
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
}
