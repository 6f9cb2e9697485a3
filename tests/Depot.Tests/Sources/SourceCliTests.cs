using System.Text.Json;
using Depot.Cli;
using Depot.Tests.Cli;

namespace Depot.Tests.Sources;

/// <summary>
/// The source mirror verbs as a user runs them: <c>push --sources</c> (the download cache found from
/// <c>SPACK_ROOT</c> or given), <c>copy --sources</c>, <c>verify</c> with its source half, text and <c>--json</c>, and
/// the command lines that make no sense refused as usage errors.
/// </summary>
public sealed class SourceCliTests : CliTestBase
{
    [Fact]
    public async Task PushFromSpackRootThenAgainThenCopyAndVerifyAsJson()
    {
        using var sources = new FakeSpackSources();
        var mirror = Path.Combine(Scratch.Path, "mirror");
        Variables["SPACK_ROOT"] = sources.SpackRoot;

        var (code, output, error) = await RunAsync("push", mirror, "--sources", "--json");
        Assert.True(code == ExitCodes.Success, error + output);
        using (var json = JsonDocument.Parse(output))
        {
            var root = json.RootElement;
            Assert.Equal(sources.Cache, root.GetProperty("source").GetString());
            Assert.Equal(3, root.GetProperty("counts").GetProperty("pushed").GetInt32());
            Assert.Equal(0, root.GetProperty("counts").GetProperty("failed").GetInt32());
            var objects = root.GetProperty("objects").EnumerateArray().ToList();
            Assert.Equal(sources.Keys.Order(StringComparer.Ordinal), objects.Select(o => o.GetProperty("key")
                .GetString()));
            Assert.All(objects, o => Assert.Equal("pushed", o.GetProperty("status").GetString()));
        }

        (code, output, error) = await RunAsync("push", mirror, "--sources");
        Assert.True(code == ExitCodes.Success, error + output);
        Assert.Contains($"exists   {sources.Archives[0].Key}: already in the mirror", output, StringComparison.Ordinal);
        Assert.Contains($"{sources.Cache} -> {mirror}: pushed 0 source objects (0 B), skipped 3 existing and 0 not "
            + "named as Spack names sources, failed 0 in ", output, StringComparison.Ordinal);

        var copy = Path.Combine(Scratch.Path, "copy");
        (code, output, error) = await RunAsync("copy", mirror, copy, "--sources", "--json");
        Assert.True(code == ExitCodes.Success, error + output);
        using (var json = JsonDocument.Parse(output))
        {
            Assert.Equal(3, json.RootElement.GetProperty("counts").GetProperty("copied").GetInt32());
        }

        (code, output, error) = await RunAsync("verify", copy, "--json");
        Assert.True(code == ExitCodes.Success, error + output);
        using (var json = JsonDocument.Parse(output))
        {
            var checkedSources = json.RootElement.GetProperty("sources");
            Assert.Equal((2, 2, 0, 1), (checkedSources.GetProperty("checked").GetInt32(),
                checkedSources.GetProperty("ok").GetInt32(), checkedSources.GetProperty("failed").GetInt32(),
                checkedSources.GetProperty("not_checkable").GetInt32()));
        }
    }

    [Fact]
    public async Task VerifyFailsWithALinePerCorruptedArchive()
    {
        using var sources = new FakeSpackSources();
        var mirror = Path.Combine(Scratch.Path, "mirror");
        var (code, _, error) = await RunAsync("push", mirror, "--sources", "--source-cache", sources.Cache);
        Assert.True(code == ExitCodes.Success, error);
        var (key, bytes, _) = sources.Archives[0];
        var target = Path.Combine([mirror, .. key.Split('/')]);
        File.WriteAllBytes(target, bytes[..^1]);

        (code, var output, error) = await RunAsync("verify", mirror, "--sources-only");
        Assert.Equal(ExitCodes.Failed, code);
        Assert.StartsWith($"FAILED {target}: checksum mismatch: the name says sha256 ", error,
            StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"{mirror}: 2 source archives checked against their names, 1 ok, 1 failed, 1 VCS checkouts not "
            + "checkable (named by revision)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("entries checked", output, StringComparison.Ordinal);

        (code, output, _) = await RunAsync("verify", mirror, "--sources-only", "--json");
        Assert.Equal(ExitCodes.Failed, code);
        using var json = JsonDocument.Parse(output);
        var failure = Assert.Single(json.RootElement.GetProperty("sources").GetProperty("failures").EnumerateArray());
        Assert.Equal(key, failure.GetProperty("location").GetString());
        Assert.Equal("invalid_content", failure.GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData("push", "M", "--sources", "zlib")]
    [InlineData("push", "M", "--sources", "--all")]
    [InlineData("push", "M", "zlib", "--source-cache", "/tmp")]
    [InlineData("copy", "M", "N", "--sources", "zlib")]
    [InlineData("verify", "M", "--sources-only", "--no-sources")]
    [InlineData("verify", "M", "--sources-only", "zlib")]
    public async Task CommandLinesThatMakeNoSenseAreUsageErrors(params string[] args)
    {
        var (code, _, error) = await RunAsync(args);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("depot: error: ", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task NoDownloadCacheAnywhereIsAUsageErrorSayingWhatIsMissing()
    {
        var (code, _, error) = await RunAsync("push", Path.Combine(Scratch.Path, "m"), "--sources");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("no Spack download cache given (the folder holding _source-cache/), and SPACK_ROOT is not set",
            error, StringComparison.Ordinal);
    }
}
