using Depot.Cli;

namespace Depot.Tests.Cli;

/// <summary>
/// <c>DEPOT_FAULTS</c> from a command's environment: the mirror it names fails on a share of requests and the command
/// still completes; a mirror that fails every request ends the command with one I/O line naming the object and the
/// tries made; a malformed value is one usage line.
/// </summary>
public sealed class FaultedMirrorCliTests : CliTestBase
{
    [Fact]
    public async Task ListCompletesOverAMirrorFailingAFifthOfItsRequests()
    {
        using var mirror = TestData.Copy(TestData.V3Unsigned);
        Variables["DEPOT_FAULTS"] = "11:0.2";

        var run = await RunAsync("list", mirror.Path, "--rescan");

        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("greet", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMirrorFailingEveryRequestIsOneIOLineNamingTheTries()
    {
        using var mirror = TestData.Copy(TestData.V3Unsigned);
        Variables["DEPOT_FAULTS"] = "1:1:servererror";

        var run = await RunAsync("list", mirror.Path);

        Assert.Equal(ExitCodes.IO, run.Code);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"depot: error: {mirror.Path}", line, StringComparison.Ordinal);
        Assert.EndsWith("HTTP 500 Internal Server Error (InternalError: We encountered an internal error. Please try "
            + "again.) (injected by DEPOT_FAULTS) (gave up after 5 tries)", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedValueIsOneUsageLine()
    {
        using var mirror = TestData.Copy(TestData.V3Unsigned);
        Variables["DEPOT_FAULTS"] = "often";

        var run = await RunAsync("list", mirror.Path);

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Equal("depot: error: DEPOT_FAULTS='often' is not SEED:RATE[:KIND,...] (a whole number, a share between "
            + "0 and 1, and kinds among throttle, servererror, timeout, reset, truncate, silenttruncate, slow, "
            + "lostresponse)", run.Err.Trim());
    }
}
