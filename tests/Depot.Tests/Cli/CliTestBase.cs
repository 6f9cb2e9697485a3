namespace Depot.Tests.Cli;

/// <summary>A CLI test: its own Depot home, a scratch folder (mirror, target root…), both removed afterwards.</summary>
public abstract class CliTestBase : IDisposable
{
    protected TempDir Home { get; } = new();

    protected TempDir Scratch { get; } = new();

    public void Dispose()
    {
        Home.Dispose();
        Scratch.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs <c>depot ARGS</c> in-process with this test's home.</summary>
    protected Task<(int Code, string Out, string Err)> RunAsync(params string[] args) =>
        CliRun.RunAsync(Home.Path, args);
}
