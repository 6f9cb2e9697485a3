using System.Text.Json.Nodes;
using Depot.Cli;
using Depot.Operations;
using Depot.Storage;
using Depot.Tests.Operations;

namespace Depot.Tests.Cli;

/// <summary>
/// <c>push</c> and <c>copy</c> whose entries are written and whose index update then fails
/// (<see cref="IndexWriteFailingStore"/> as the destination): the report of what was done is printed first — every
/// spec's line and the summary, or the <c>--json</c> document with the error inside it — then the error, with the
/// exit code of its kind.
/// </summary>
public sealed class LastStepFailureCliTests : CliTestBase
{
    // The engine's own access, with every store opened for writing refusing index writes.
    private static MirrorAccess FailingIndexWrites()
    {
        var real = MirrorAccess.Default;
        return real with
        {
            OpenStore = request => request.Purpose == MirrorPurpose.Write
                ? new IndexWriteFailingStore((IObjectStore)real.OpenStore(request))
                : real.OpenStore(request),
        };
    }

    private Task<(int Code, string Out, string Err)> RunFailingAsync(params string[] args) =>
        CliRun.RunAsync(Home.Path, FailingIndexWrites(), args);

    private static string[] PushArgs(string mirror, bool json) =>
        ["push", mirror, "--all", "--unsigned", "--install-tree", TestData.Path("spack-1.2/install-tree"),
            .. json ? new[] { "--json" } : []];

    [Fact]
    public async Task APushWhoseIndexUpdateFailsPrintsItsReportThenTheError()
    {
        var mirror = Scratch.Combine("mirror");

        var run = await RunFailingAsync(PushArgs(mirror, json: false));

        Assert.True(run.Code == ExitCodes.IO, run.Err + run.Out);
        var outLines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, outLines.Count(l => l.StartsWith("pushed ", StringComparison.Ordinal)));
        Assert.Contains($"{mirror}: pushed 5, skipped 0 existing and 3 external, failed 0 (layout v3)",
            run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("index updated", run.Out, StringComparison.Ordinal);
        var error = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"depot: error: {mirror}/v3/manifests/index/index.manifest.json: "
            + IndexWriteFailingStore.Refusal, error);
    }

    [Fact]
    public async Task APushWhoseIndexUpdateFailsPrintsOneJsonDocumentWithTheErrorInside()
    {
        var mirror = Scratch.Combine("mirror");

        var run = await RunFailingAsync(PushArgs(mirror, json: true));

        Assert.True(run.Code == ExitCodes.IO, run.Err + run.Out);
        Assert.Equal("", run.Err);
        var document = JsonNode.Parse(run.Out)!;
        Assert.Equal(5, (int)document["counts"]!["pushed"]!);
        Assert.Equal(5, document["specs"]!.AsArray().Count(s => (string)s!["status"]! == "pushed"));
        Assert.Null(document["index"]);
        var error = document["error"]!;
        Assert.Equal(("io", ExitCodes.IO), ((string)error["kind"]!, (int)error["exit_code"]!));
        Assert.EndsWith(IndexWriteFailingStore.Refusal, (string)error["message"]!, StringComparison.Ordinal);

        // What the report says was pushed is there: a push without the failing step now only indexes it.
        var again = await RunAsync(PushArgs(mirror, json: false));
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("pushed 0, skipped 5 existing", again.Out, StringComparison.Ordinal);
        Assert.Contains("index updated: 5 specs", again.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASignWhoseKeyPublicationFailsReportsWhatWasSignedThenTheError(bool json)
    {
        Assert.Equal(0, (await RunAsync("keys", "import", TestData.Path("spack-1.2/keys/secret.asc"))).Code);
        using var mirror = TestData.Copy(TestData.V3Unsigned);
        var real = MirrorAccess.Default;
        var access = real with
        {
            OpenStore = request => new IndexWriteFailingStore((IObjectStore)real.OpenStore(request),
                IndexWriteFailingStore.KeyKeys),
        };

        var run = await CliRun.RunAsync(Home.Path, access, ["sign", mirror.Path, .. json ? new[] { "--json" } : []]);

        Assert.True(run.Code == ExitCodes.IO, run.Err + run.Out);
        if (json)
        {
            Assert.Equal("", run.Err);
            var document = JsonNode.Parse(run.Out)!;
            Assert.Equal(5, (int)document["signed"]!);
            Assert.False((bool)document["key_published"]!);
            Assert.Equal("io", (string)document["error"]!["kind"]!);
            return;
        }

        Assert.StartsWith($"{mirror.Path}: signed 5 entries with ", run.Out, StringComparison.Ordinal);
        var error = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"depot: error: {mirror.Path}/v3/manifests/key/", error, StringComparison.Ordinal);
        Assert.EndsWith(IndexWriteFailingStore.Refusal, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACopyWhoseIndexUpdateFailsReportsWhatWasCopiedThenTheError(bool json)
    {
        using var source = TestData.InstallableV3(TestData.V3Unsigned);
        var target = Scratch.Combine("copy");

        var run = await RunFailingAsync(["copy", source.Path, target, "--no-verify", "--unsigned",
            .. json ? new[] { "--json" } : []]);

        Assert.True(run.Code == ExitCodes.IO, run.Err + run.Out);
        if (json)
        {
            Assert.Equal("", run.Err);
            var document = JsonNode.Parse(run.Out)!;
            Assert.Equal(5, (int)document["counts"]!["copied"]!);
            Assert.Equal("io", (string)document["error"]!["kind"]!);
            return;
        }

        Assert.Contains($"{source.Path} -> {target}: copied 5, converted 0", run.Out, StringComparison.Ordinal);
        var error = Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith(IndexWriteFailingStore.Refusal, error, StringComparison.Ordinal);
    }
}
