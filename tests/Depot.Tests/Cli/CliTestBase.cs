namespace Depot.Tests.Cli;

/// <summary>
/// A CLI test: its own Depot home, a scratch folder (mirror, target root…), both removed afterwards, and its own
/// environment variables (<see cref="Variables"/>), the only ones its runs see.
/// </summary>
public abstract class CliTestBase : IDisposable
{
    protected TempDir Home { get; } = new();

    protected TempDir Scratch { get; } = new();

    /// <summary>
    /// The environment of this test's runs (<c>SPACK_ROOT</c>, the variables a mirror names…): empty unless the test
    /// sets some. The process environment is never changed or read.
    /// </summary>
    protected Dictionary<string, string> Variables { get; } = new(StringComparer.Ordinal);

    public void Dispose()
    {
        Home.Dispose();
        Scratch.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs <c>depot ARGS</c> in-process with this test's home and <see cref="Variables"/>.</summary>
    protected Task<(int Code, string Out, string Err)> RunAsync(params string[] args) =>
        CliRun.RunAsync(Home.Path, Variables, args);
}
