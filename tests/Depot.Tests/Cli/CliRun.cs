using Depot.Cli;

namespace Depot.Tests.Cli;

/// <summary>Runs the CLI in-process with a given Depot home and captures what a user would see.</summary>
internal static class CliRun
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(string home, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Program.Run(args, stdout, stderr, home);
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
        var code = await Program.Run(args, stdout, stderr, home, interactive: false, access);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
