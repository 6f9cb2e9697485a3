using System.Net;
using System.Text.Json;
using Depot.Server;

namespace Depot.Tests.Server;

/// <summary><c>/metrics</c> (Prometheus text) and the JSON request log, over a real server.</summary>
public sealed class ServerMetricsTests : IDisposable
{
    private readonly TempDir mirror = new();

    public void Dispose() => mirror.Dispose();

    [Fact]
    public async Task RequestsBytesHitsMissesAndDurationsAreCountedPerCacheAndExposedAsPrometheusText()
    {
        Directory.CreateDirectory(mirror.Combine("v3", "layout"));
        await File.WriteAllTextAsync(mirror.Combine("v3", "layout.json"), "{\"version\": 3}",
            TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(mirror.Path);
        var name = server.Server.Caches.All[0].Name;
        var token = TestContext.Current.CancellationToken;

        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync($"{name}/v3/layout.json", token)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync($"{name}/v3/nothing", token)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync("not-a-cache/x", token)).StatusCode);
        var metrics = await server.Client.GetAsync("metrics", token);
        var text = await metrics.Content.ReadAsStringAsync(token);

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType?.ToString());
        Assert.Contains($"depot_http_requests_total{{cache=\"{name}\",method=\"GET\",status=\"2xx\"}} 1\n", text,
            StringComparison.Ordinal);
        Assert.Contains($"depot_http_requests_total{{cache=\"{name}\",method=\"GET\",status=\"4xx\"}} 1\n", text,
            StringComparison.Ordinal);
        Assert.Contains("depot_http_requests_total{cache=\"\",method=\"GET\",status=\"4xx\"} 1\n", text,
            StringComparison.Ordinal);
        Assert.Contains($"depot_cache_hits_total{{cache=\"{name}\"}} 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"depot_cache_misses_total{{cache=\"{name}\"}} 1\n", text, StringComparison.Ordinal);
        Assert.Matches($"depot_http_response_bytes_total{{cache=\"{name}\"}} (\\d+)\n", text);
        Assert.Contains($"depot_http_request_duration_seconds_count{{cache=\"{name}\",method=\"GET\"}} 2\n", text,
            StringComparison.Ordinal);
        Assert.Contains($"depot_http_request_duration_seconds_bucket{{cache=\"{name}\",method=\"GET\",le=\"+Inf\"}}"
            + " 2\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE depot_http_request_duration_seconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains("depot_http_requests_in_flight 1\n", text, StringComparison.Ordinal);
        var sent = long.Parse(System.Text.RegularExpressions.Regex.Match(text,
            $"depot_http_response_bytes_total{{cache=\"{name}\"}} (\\d+)").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(sent >= "{\"version\": 3}".Length, text);
    }

    [Fact]
    public void UpstreamFetchesAndErrorsAreCountedByTheirFixedWordsAndLabelsAreEscaped()
    {
        var metrics = new ServerMetrics();
        metrics.UpstreamFetch("spack", "stored");
        metrics.UpstreamFetch("spack", "stored");
        metrics.UpstreamFetch("spack", "rejected");
        metrics.Error("a\"b", "io");
        metrics.Request("spack", "BREW", 503, 10, 0, TimeSpan.FromSeconds(0.3));

        var text = metrics.ToString();

        Assert.Contains("depot_upstream_fetches_total{cache=\"spack\",outcome=\"stored\"} 2\n", text,
            StringComparison.Ordinal);
        Assert.Contains("depot_upstream_fetches_total{cache=\"spack\",outcome=\"rejected\"} 1\n", text,
            StringComparison.Ordinal);
        Assert.Contains("depot_errors_total{cache=\"a\\\"b\",kind=\"io\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("depot_errors_total{cache=\"spack\",kind=\"status_503\"} 1\n", text,
            StringComparison.Ordinal);
        Assert.Contains("depot_http_requests_total{cache=\"spack\",method=\"OTHER\",status=\"5xx\"} 1\n", text,
            StringComparison.Ordinal);
        Assert.Contains("depot_http_request_duration_seconds_bucket{cache=\"spack\",method=\"OTHER\",le=\"0.25\"} 0\n",
            text, StringComparison.Ordinal);
        Assert.Contains("depot_http_request_duration_seconds_bucket{cache=\"spack\",method=\"OTHER\",le=\"0.5\"} 1\n",
            text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachRequestIsOneJsonLineWithoutItsQueryStringOrAuthorizationAndWithTheForwardedClient()
    {
        await File.WriteAllTextAsync(mirror.Combine("index.json"), "{}", TestContext.Current.CancellationToken);
        await using var server = await RunningServer.StartAsync(mirror.Path);
        var name = server.Server.Caches.All[0].Name;
        var token = TestContext.Current.CancellationToken;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{name}/index.json?X-Amz-Signature=secret1");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "secret2");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        // An unknown token is refused even on a public cache (CacheAccess): the refusal is logged like any answer.
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Client.SendAsync(request, token)).StatusCode);
        await server.Client.GetAsync("healthz", token);

        var lines = await server.LogLinesAsync(2);

        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain("secret", server.Log.ToString(), StringComparison.Ordinal);
        using var first = JsonDocument.Parse(lines[0]);
        var entry = first.RootElement;
        Assert.Equal("GET", entry.GetProperty("method").GetString());
        Assert.Equal($"/{name}/index.json", entry.GetProperty("path").GetString());
        Assert.Equal(401, entry.GetProperty("status").GetInt32());
        Assert.True(entry.GetProperty("bytes").GetInt64() > 0);
        Assert.Equal(name, entry.GetProperty("cache").GetString());

        // The server is reached over loopback, a trusted proxy by default: the forwarded client is the one logged.
        Assert.Equal("203.0.113.7", entry.GetProperty("client").GetString());
        Assert.True(entry.GetProperty("ms").GetDouble() >= 0);
        Assert.True(DateTimeOffset.TryParse(entry.GetProperty("time").GetString(),
            System.Globalization.CultureInfo.InvariantCulture, out _));
        using var second = JsonDocument.Parse(lines[1]);
        Assert.False(second.RootElement.TryGetProperty("cache", out _));
    }
}
