using System.Diagnostics;
using System.Text.RegularExpressions;
using Depot.Layout;
using Depot.Operations;
using Depot.Serving;
using Depot.Signing;
using Depot.Storage.S3;
using Depot.Tests.Cli;
using Depot.Tests.InstallTree;
using Depot.Tests.Operations;
using Depot.Tests.Storage;

namespace Depot.Tests.Server;

/// <summary>
/// Two <c>depot serve</c> processes (replicas) over one s3rver bucket, four pushers at once, each pushing its own 50
/// specs with <c>depot push</c>, alternating between the replicas: the index the replicas keep holds all 200, and
/// the cache verifies.
/// </summary>
public sealed partial class ReplicaPushTests(S3rver s3) : IClassFixture<S3rver>
{
    private const int Pushers = 4;
    private const int SpecsEach = 50;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FourPushersOverTwoReplicasOfOneBucketLeaveEverySpecIndexed()
    {
        var prefix = "replicas-" + Guid.NewGuid().ToString("N")[..8];
        using var serverHome = new TempDir();
        var tokensFile = Path.Combine(serverHome.Path, "tokens.json");
        var config = $"""
            mirrors:
              bucket:
                url: s3://{S3rver.Bucket}/{prefix}
                endpoint_url: {s3.Endpoint}
                access_pair:
                  id: S3RVER
                  secret_variable: S3_SECRET
            """;
        var serveYaml = Path.Combine(serverHome.Path, "serve.yaml");
        File.WriteAllText(serveYaml, $"""
            listen: 127.0.0.1:0
            tokens_file: {tokensFile}
            caches:
              c:
                mirror: bucket
                allow_unsigned: true
            """);
        var token = (await new TokenStore(tokensFile).CreateAsync("c", TokenScope.Push, null, "pushers", Token)).Text;

        using var work = new TempDir();
        var expected = new List<string>();
        for (var p = 0; p < Pushers; p++)
        {
            var builder = new InstallTreeBuilder(Path.Combine(work.Path, $"tree{p}"));
            for (var s = 0; s < SpecsEach; s++)
            {
                expected.Add(builder.Add($"pkg{p}-{s}", "1.0",
                    prefix => PushOperationTests.WriteFile(prefix, "share/id.txt", $"{p} {s}\n")));
            }

            builder.WriteDatabase();
        }

        var replicas = new List<(Process Process, string Url)>();
        try
        {
            for (var r = 0; r < 2; r++)
            {
                // Each replica has its own home (as on its own host): only the bucket and the tokens file are shared.
                var home = Directory.CreateDirectory(Path.Combine(serverHome.Path, $"replica{r}")).FullName;
                File.WriteAllText(Path.Combine(home, "config.yaml"), config);
                replicas.Add(await StartServeAsync(home, serveYaml));
            }

            var clock = Stopwatch.StartNew();
            var runs = Enumerable.Range(0, Pushers).Select(async p =>
            {
                using var home = new TempDir();
                var variables = new Dictionary<string, string> { ["DEPOT_PUSH_TOKEN"] = token };
                var added = await CliRun.RunAsync(home.Path, variables, "mirror", "add", "srv",
                    replicas[p % 2].Url, "--token-variable", "DEPOT_PUSH_TOKEN", "--unsigned");
                Assert.Equal(0, added.Code);
                return await CliRun.RunAsync(home.Path, variables, "push", "srv", "--all", "--install-tree",
                    Path.Combine(work.Path, $"tree{p}"), "-j", "4");
            }).ToList();
            foreach (var (code, output, err) in await Task.WhenAll(runs))
            {
                Assert.True(err.Length == 0 && code == 0,
                    $"exit {code}: {err}; server errors: {string.Join(" | ", ServerErrors.Take(5))}");
                Assert.Contains($"pushed {SpecsEach},", output, StringComparison.Ordinal);
                Assert.Contains("index updated by the server", output, StringComparison.Ordinal);
            }

            TestContext.Current.SendDiagnosticMessage(
                $"{Pushers}x{SpecsEach} specs pushed over 2 replicas in {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            foreach (var (process, _) in replicas)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                process.Dispose();
            }
        }

        using var store = new S3Store(S3rver.Bucket, prefix, new S3StoreOptions(s3.Endpoint, "S3RVER", "S3RVER"));
        var index = await new BuildCacheV3(store).ReadIndexAsync(Token);
        Assert.NotNull(index);
        Assert.Equal(expected.Order(StringComparer.Ordinal),
            index.CachedSpecs.Select(s => s.Hash).Order(StringComparer.Ordinal));
        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, TrustPolicy.None("c")), new VerifyOptions([]),
            null, Token);
        Assert.True(verified.Ok, string.Join("; ", verified.Failures.Select(f => f.ToString())));
        Assert.Equal(Pushers * SpecsEach, verified.Checked);
    }

    // `depot serve --config FILE` as its own process (the built CLI), the bucket's secret in its environment; its
    // first lines say where the cache is served.
    private static async Task<(Process Process, string Url)> StartServeAsync(string home, string serveYaml)
    {
        // The CLI's own build output: the copy beside the tests resolves ASP.NET's assemblies from the tests' set.
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')); // tests/Depot.Tests/bin/CONFIG/TFM
        var cli = Path.Combine(tfm.Parent!.Parent!.Parent!.Parent!.Parent!.FullName, "src", "Depot.Cli", "bin",
            tfm.Parent.Name, tfm.Name, "Depot.Cli.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", cli, "serve", "--config", serveYaml])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DEPOT_HOME"] = home;
        start.Environment["S3_SECRET"] = "S3RVER";
        var process = Process.Start(start)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (ServingLine().Match(line) is { Success: true } m)
            {
                _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);

                // The request log: lines of requests that failed inside the server go into a failure's message.
                process.ErrorDataReceived += (_, e) =>
                {
                    if (e.Data?.Contains("\"error\"", StringComparison.Ordinal) == true)
                    {
                        ServerErrors.Enqueue(e.Data);
                    }
                };
                process.BeginErrorReadLine();
                return (process, m.Groups[1].Value);
            }
        }

        var err = await process.StandardError.ReadToEndAsync(Token);
        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException("depot serve did not start: " + err);
    }

    private static readonly System.Collections.Concurrent.ConcurrentQueue<string> ServerErrors = new();

    [GeneratedRegex(@"^serving c \(.*\) at (http://\S+/c)/")]
    private static partial Regex ServingLine();
}
