using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Depot.Tests.Cli;

/// <summary>
/// <c>depot serve DIR...</c> as a user starts it (the built <c>depot</c> in its own process): the URLs it prints carry
/// the real port, names come from the last path segment, writes are refused, and SIGTERM lets a download in flight
/// finish before exit 0, with the request log on standard error.
/// </summary>
public sealed partial class ServeCliTests : IDisposable
{
    private readonly TempDir scratch = new();
    private readonly TempDir home = new();

    // The CLI's own build output: the copy beside the tests cannot start the server (the test project's build keeps
    // ASP.NET Core's logging assembly out of its folder, where the CLI's deps.json looks for it).
    private static string Cli => Path.GetFullPath(Path.Combine(
        AppContext.BaseDirectory.Replace(Path.Combine("tests", "Depot.Tests"), Path.Combine("src", "Depot.Cli"),
            StringComparison.Ordinal), "Depot.Cli"));

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        scratch.Dispose();
        home.Dispose();
    }

    [GeneratedRegex(@"^serving (\S+) \((.+)\) at (http://127\.0\.0\.1:(\d+)/\S+/) \[public, read-only\]$")]
    private static partial Regex ServingLine();

    [Fact]
    public async Task ZeroConfigServesEachMirrorAtThePrintedUrlRefusesWritesAndFinishesADownloadOnSigterm()
    {
        var first = scratch.Combine("a", "cache");
        var second = scratch.Combine("b", "cache");
        var data = RandomNumberGenerator.GetBytes(6 << 20);
        Directory.CreateDirectory(Path.Combine(first, "build_cache"));
        Directory.CreateDirectory(second);
        await File.WriteAllBytesAsync(Path.Combine(first, "build_cache", "big.spack"), data, Token);
        await File.WriteAllTextAsync(Path.Combine(second, "index.json"), "{}", Token);
        var start = new ProcessStartInfo(Cli,
            ["serve", first, second, "--listen", "127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DEPOT_HOME"] = home.Path },
        };
        using var serve = Process.Start(start)!;
        try
        {
            var lines = new List<string>();
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(Token))
            {
                wait.CancelAfter(TimeSpan.FromSeconds(60));
                while (await serve.StandardOutput.ReadLineAsync(wait.Token) is { } line)
                {
                    lines.Add(line);
                    if (line == "Ctrl-C stops the server")
                    {
                        break;
                    }
                }
            }

            Assert.True(lines.Count == 3, string.Join("\n", lines) + (lines.Count < 3 && serve.HasExited
                ? await serve.StandardError.ReadToEndAsync(Token) : ""));
            var served = lines.Take(2).Select(l => ServingLine().Match(l)).ToList();
            Assert.All(served, m => Assert.True(m.Success, string.Join("\n", lines)));
            Assert.Equal(["cache", "cache-2"], served.Select(m => m.Groups[1].Value));
            Assert.Equal([first, second], served.Select(m => m.Groups[2].Value));
            Assert.NotEqual("0", served[0].Groups[4].Value);
            var url = new Uri(served[0].Groups[3].Value);
            Assert.Equal(new Uri(served[1].Groups[3].Value), new Uri(url, "../cache-2/"));

            using var client = new HttpClient();
            Assert.Equal("{}", await client.GetStringAsync(new Uri(url, "../cache-2/index.json"), Token));
            var put = await client.PutAsync(new Uri(url, "index.json"), new StringContent("{}"), Token);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
            Assert.Equal("GET, HEAD", string.Join(", ", put.Content.Headers.Allow));

            using var response = await client.GetAsync(new Uri(url, "build_cache/big.spack"),
                HttpCompletionOption.ResponseHeadersRead, Token);
            await using var body = await response.Content.ReadAsStreamAsync(Token);
            var received = new MemoryStream();
            var buffer = new byte[128 << 10];
            received.Write(buffer, 0, await body.ReadAsync(buffer, Token));
            using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo
                       .InvariantCulture)])!)
            {
                await kill.WaitForExitAsync(Token);
            }

            await Task.Delay(300, Token);
            Assert.False(serve.HasExited, "depot serve exited with a download in flight");
            int n;
            while ((n = await body.ReadAsync(buffer, Token)) > 0)
            {
                received.Write(buffer, 0, n);
                await Task.Delay(10, Token);
            }

            Assert.Equal(data, received.ToArray());
            using (var exit = CancellationTokenSource.CreateLinkedTokenSource(Token))
            {
                exit.CancelAfter(TimeSpan.FromSeconds(30));
                await serve.WaitForExitAsync(exit.Token);
            }

            var stderr = await serve.StandardError.ReadToEndAsync(Token);
            Assert.True(serve.ExitCode == 0, $"exit {serve.ExitCode}: {stderr}");
            var log = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(3, log.Count);
            var download = log.Single(e => e.GetProperty("path").GetString() == "/cache/build_cache/big.spack");
            Assert.Equal((200, (long)data.Length), (download.GetProperty("status").GetInt32(),
                download.GetProperty("bytes").GetInt64()));
            Assert.Equal(405, log.Single(e => e.GetProperty("method").GetString() == "PUT")
                .GetProperty("status").GetInt32());
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
            }
        }
    }
}
