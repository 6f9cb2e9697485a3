using Depot.Cli;
using Depot.Tests.Storage;

namespace Depot.Tests.Cli;

/// <summary>
/// A mirror whose server is not there (nothing listens on a 127.0.0.1 port): <c>list</c> and <c>push</c> fail with
/// one line naming the URL and the I/O exit code, no stack trace, within seconds; <c>mirror check</c> reports the
/// failing step with the URL and exits non-zero.
/// </summary>
public sealed class UnreachableMirrorCliTests : CliTestBase
{
    public static TheoryData<string> Urls => new()
    {
        "http://127.0.0.1:{0}/mirror",
        "oci+http://127.0.0.1:{0}/depot/mirror",
    };

    private static string Unreachable(string pattern) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, pattern, TestServer.FreePort());

    private static void AssertOneLineNaming(string url, (int Code, string Out, string Err) run)
    {
        Assert.Equal(ExitCodes.IO, run.Code);
        var line = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("depot: error: ", line, StringComparison.Ordinal);
        var hostPort = new Uri(url.Replace("oci+http", "http", StringComparison.Ordinal)).Authority;
        Assert.Contains(hostPort, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Err, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Urls))]
    public async Task ListIsOneIOErrorLineNamingTheUrl(string pattern)
    {
        var url = Unreachable(pattern);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        AssertOneLineNaming(url, await RunAsync("list", url));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed.TotalSeconds:F1} s");
    }

    // Measured here: about 28 s for the five entries of the fixture tree, each entry's request retried before it is
    // reported (the run is not stopped at the first unreachable request); not yet "prompt".
    [Fact]
    public async Task PushToAnUnreachableRegistryEndsWithOneIOErrorNamingItAndNoStackTrace()
    {
        var url = Unreachable("oci+http://127.0.0.1:{0}/depot/mirror");
        var run = await RunAsync("push", url, "--all", "--unsigned", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.Equal(ExitCodes.IO, run.Code);
        var hostPort = new Uri(url.Replace("oci+http", "http", StringComparison.Ordinal)).Authority;
        var errors = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("depot: error: ", StringComparison.Ordinal)).ToList();
        Assert.Contains(hostPort, Assert.Single(errors), StringComparison.Ordinal);
        Assert.All((run.Out + run.Err).Split('\n', StringSplitOptions.RemoveEmptyEntries),
            l => Assert.Contains($"cannot reach registry {hostPort}", l, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", run.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushToAnUnreachableHttpMirrorIsRefusedAsReadOnlyBeforeAnyRequest()
    {
        var url = Unreachable("http://127.0.0.1:{0}/mirror");
        var run = await RunAsync("push", url, "--all", "--unsigned", "--install-tree",
            TestData.Path("spack-1.2/install-tree"));
        Assert.Equal(ExitCodes.Unsupported, run.Code);
        Assert.Contains("read-only", Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)),
            StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Urls))]
    public async Task MirrorCheckReportsTheFailingStepWithTheUrlAndExitsNonZero(string pattern)
    {
        var url = Unreachable(pattern);
        var run = await RunAsync("mirror", "check", url);
        Assert.NotEqual(0, run.Code);
        var hostPort = new Uri(url.Replace("oci+http", "http", StringComparison.Ordinal)).Authority;
        Assert.Contains(hostPort, run.Out + run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Out + run.Err, StringComparison.Ordinal);
    }
}
