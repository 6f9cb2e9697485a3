using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Depot.Server;

/// <summary>
/// The server's counters, in Prometheus' text exposition format at <c>/metrics</c>. Written by hand (a few counters
/// and one histogram) rather than with a client library: nothing to trim for Native AOT, and the names are ours.
/// Label values are bounded: a cache label is a served cache's name or empty (never a path a client made up), a
/// method one of the HTTP methods the server answers or <c>OTHER</c>. One instance per server; thread-safe.
/// </summary>
public sealed class ServerMetrics
{
    /// <summary>Upper bounds (seconds) of the request-duration histogram's buckets.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    private static readonly string[] KnownMethods = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"];

    private readonly Family requests = new("depot_http_requests_total", "counter",
        "HTTP requests answered, by cache (empty: not a cache's path), method and status class.");
    private readonly Family bytes = new("depot_http_response_bytes_total", "counter",
        "Response body bytes sent, by cache.");
    private readonly Family received = new("depot_http_request_bytes_total", "counter",
        "Request body bytes declared (Content-Length of uploads), by cache.");
    private readonly Family hits = new("depot_cache_hits_total", "counter",
        "GET/HEAD of a cache's object that was found (2xx, 304), by cache.");
    private readonly Family misses = new("depot_cache_misses_total", "counter",
        "GET/HEAD of a cache's object that was not there (404), by cache.");
    private readonly Family upstream = new("depot_upstream_fetches_total", "counter",
        "Objects fetched from a pull-through cache's upstreams, by cache and outcome.");
    private readonly Family errors = new("depot_errors_total", "counter",
        "Requests that failed on the server's side (5xx) or were cut short, by cache and kind.");
    private readonly Family inFlight = new("depot_http_requests_in_flight", "gauge",
        "Requests being answered now.");
    private readonly ConcurrentDictionary<string, Histogram> durations = new(StringComparer.Ordinal);

    /// <summary>Records one answered request (the request middleware calls this once per request).</summary>
    /// <param name="cache">The served cache the path names, or null.</param>
    /// <param name="method">The request method.</param>
    /// <param name="status">The response status.</param>
    /// <param name="sent">Response body bytes sent.</param>
    /// <param name="read">Request body bytes declared (Content-Length).</param>
    /// <param name="elapsed">Time from the request's arrival to its last byte.</param>
    public void Request(string? cache, string method, int status, long sent, long read, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(method);
        var name = cache ?? "";
        var verb = Method(method);
        requests.Add(Labels(("cache", name), ("method", verb), ("status", (status / 100) + "xx")));
        bytes.Add(Labels(("cache", name)), sent);
        if (read > 0)
        {
            received.Add(Labels(("cache", name)), read);
        }

        if (cache is not null && verb is "GET" or "HEAD")
        {
            if (status is >= 200 and < 300 or 304)
            {
                hits.Add(Labels(("cache", name)));
            }
            else if (status == 404)
            {
                misses.Add(Labels(("cache", name)));
            }
        }

        if (status >= 500)
        {
            Error(cache, "status_" + status.ToString(CultureInfo.InvariantCulture));
        }

        durations.GetOrAdd(Labels(("cache", name), ("method", verb)), _ => new Histogram())
            .Observe(elapsed.TotalSeconds);
    }

    /// <summary>Records a fetch from an upstream of <paramref name="cache"/> (pull-through).</summary>
    /// <param name="cache">The cache a miss was fetched for.</param>
    /// <param name="outcome">A short fixed word: <c>stored</c>, <c>not_found</c>, <c>rejected</c> (signature or
    /// checksum), <c>failed</c> (unreachable, error).</param>
    public void UpstreamFetch(string cache, string outcome) =>
        upstream.Add(Labels(("cache", cache), ("outcome", outcome)));

    /// <summary>Records an error of a fixed <paramref name="kind"/> (an error kind's name, <c>aborted</c>…).</summary>
    public void Error(string? cache, string kind) => errors.Add(Labels(("cache", cache ?? ""), ("kind", kind)));

    /// <summary>A request started (the gauge <c>depot_http_requests_in_flight</c>); dispose when it ends.</summary>
    public IDisposable Started()
    {
        inFlight.Add("", 1);
        return new Ending(() => inFlight.Add("", -1));
    }

    /// <summary>Writes every metric in the Prometheus text format (version 0.0.4).</summary>
    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var family in new[] { requests, bytes, received, hits, misses, upstream, errors, inFlight })
        {
            family.WriteTo(writer);
        }

        const string name = "depot_http_request_duration_seconds";
        writer.Write($"# HELP {name} Time to answer a request (last byte sent), by cache and method.\n");
        writer.Write($"# TYPE {name} histogram\n");
        foreach (var (labels, histogram) in durations.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            histogram.WriteTo(writer, name, labels);
        }
    }

    /// <summary>The exposition as a string (tests, small scrapes).</summary>
    public override string ToString()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        WriteTo(writer);
        return writer.ToString();
    }

    /// <summary>The content type of <see cref="WriteTo"/>'s output.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static string Method(string method)
    {
        foreach (var known in KnownMethods)
        {
            if (string.Equals(known, method, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return "OTHER";
    }

    /// <summary><c>a="x",b="y"</c> with Prometheus escaping (backslash, quote, newline).</summary>
    private static string Labels(params (string Name, string Value)[] labels)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in labels)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(name).Append("=\"").Append(value.Replace("\\", "\\\\", StringComparison.Ordinal)
                .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal))
                .Append('"');
        }

        return text.ToString();
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>One metric name: a value per label set.</summary>
    private sealed class Family(string name, string type, string help)
    {
        private readonly ConcurrentDictionary<string, StrongBox> values = new(StringComparer.Ordinal);

        public void Add(string labels, long delta = 1) =>
            Interlocked.Add(ref values.GetOrAdd(labels, _ => new StrongBox()).Value, delta);

        public void WriteTo(TextWriter writer)
        {
            writer.Write($"# HELP {name} {help}\n# TYPE {name} {type}\n");
            if (values.IsEmpty && type == "gauge")
            {
                writer.Write($"{name} 0\n");
            }

            foreach (var (labels, box) in values.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var value = Interlocked.Read(ref box.Value).ToString(CultureInfo.InvariantCulture);
                writer.Write(labels.Length == 0 ? $"{name} {value}\n" : $"{name}{{{labels}}} {value}\n");
            }
        }
    }

    private sealed class StrongBox
    {
#pragma warning disable SA1401 // a field, for Interlocked
        public long Value;
#pragma warning restore SA1401
    }

    private sealed class Histogram
    {
        private readonly long[] counts = new long[DurationBuckets.Count + 1];
        private readonly Lock gate = new();
        private double sum;

        public void Observe(double seconds)
        {
            var bucket = 0;
            while (bucket < DurationBuckets.Count && seconds > DurationBuckets[bucket])
            {
                bucket++;
            }

            lock (gate)
            {
                counts[bucket]++;
                sum += seconds;
            }
        }

        public void WriteTo(TextWriter writer, string name, string labels)
        {
            long[] snapshot;
            double total;
            lock (gate)
            {
                snapshot = (long[])counts.Clone();
                total = sum;
            }

            long cumulative = 0;
            for (var i = 0; i <= DurationBuckets.Count; i++)
            {
                cumulative += snapshot[i];
                var le = i < DurationBuckets.Count ? Number(DurationBuckets[i]) : "+Inf";
                var count = cumulative.ToString(CultureInfo.InvariantCulture);
                writer.Write($"{name}_bucket{{{labels},le=\"{le}\"}} {count}\n");
            }

            writer.Write($"{name}_sum{{{labels}}} {Number(total)}\n");
            writer.Write($"{name}_count{{{labels}}} {cumulative.ToString(CultureInfo.InvariantCulture)}\n");
        }
    }

    private sealed class Ending(Action end) : IDisposable
    {
        private int done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0)
            {
                end();
            }
        }
    }
}
