using System.Globalization;
using System.Text;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Depot.Storage;

/// <summary>
/// What Depot accepts from HTTP servers it does not control (HTTP mirrors, registries, token services, the storage
/// behind them). A body is read against a cap: its <c>Content-Length</c> is checked before any byte is read, and the
/// bytes are counted as they arrive, so nothing is buffered whole before being judged. Bodies whose cap is large go
/// through a temporary file while they arrive, so one that turns out too large never sits in memory: a refused body
/// costs at most <see cref="InMemoryLimit"/>. Also here: how long a server may ask Depot to wait (<c>Retry-After</c>),
/// and what "the same origin" is, to which credentials are bound.
/// </summary>
internal static class HttpBodies
{
    /// <summary>Image manifests, indexes and referrers lists (the distribution spec's own limit is 4 MiB).</summary>
    public const long ManifestLimit = 4 << 20;

    /// <summary>One page of a tag list: 16 MiB holds 100,000 tags of Spack's length, for registries that ignore
    /// <c>n</c>.</summary>
    public const long TagPageLimit = 16 << 20;

    /// <summary>A token service's answer (a JWT of a few KiB).</summary>
    public const long TokenLimit = 1 << 20;

    /// <summary>Error bodies are only summarised for a message: the first 64 KiB is plenty, the rest is not
    /// read.</summary>
    public const int ErrorLimit = 64 << 10;

    /// <summary>The most an announced length reserves before the bytes arrive.</summary>
    public const int InitialBufferLimit = 1 << 20;

    /// <summary>Bodies allowed to be larger than this are spooled to a temporary file while they arrive.</summary>
    public const long InMemoryLimit = 16 << 20;

    /// <summary>How long a body may go without a byte, and a read (GET, HEAD) without an answer, before Depot gives
    /// up.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The longest <c>Retry-After</c> Depot waits for; a server asking for more is reported at once.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>Reads a response body whole, refusing more than <paramref name="maxBytes"/> (announced or
    /// sent).</summary>
    /// <exception cref="InvalidContentException">The body is larger than the cap.</exception>
    public static async Task<byte[]> ReadAsync(HttpResponseMessage response, string location, long maxBytes,
        CancellationToken cancellationToken)
    {
        var declared = response.Content.Headers.ContentLength;
        RefuseDeclared(declared, location, maxBytes);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(body, declared, location, maxBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a stream whole, refusing more than <paramref name="maxBytes"/>; <paramref name="declared"/> is
    /// its announced length.</summary>
    public static async Task<byte[]> ReadAsync(Stream body, long? declared, string location, long maxBytes,
        CancellationToken cancellationToken)
    {
        RefuseDeclared(declared, location, maxBytes);
        if (Math.Min(maxBytes, declared ?? long.MaxValue) <= InMemoryLimit)
        {
            // The announced length sizes the buffer only up to a little: a server (or a descriptor) claiming 16 MiB
            // and sending ten bytes must not cost 16 MiB; past that the buffer grows with what arrives.
            using var memory = new MemoryStream((int)Math.Min(declared ?? 0, InitialBufferLimit));
            await CopyCappedAsync(body, memory, location, maxBytes, cancellationToken).ConfigureAwait(false);
            return memory.Length == memory.Capacity ? memory.GetBuffer() : memory.ToArray();
        }

        var path = Path.Combine(Path.GetTempPath(), $"depot-http-{Guid.NewGuid():N}");
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        var length = await CopyCappedAsync(body, file, location, Math.Min(maxBytes, Array.MaxLength), cancellationToken)
            .ConfigureAwait(false);
        var bytes = GC.AllocateUninitializedArray<byte>((int)length);
        file.Position = 0;
        await file.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return bytes;
    }

    /// <summary>Copies a response body to a file, refusing more than <paramref name="maxBytes"/>. Returns its
    /// length.</summary>
    public static async Task<long> CopyToFileAsync(HttpResponseMessage response, string path, string location,
        long maxBytes, CancellationToken cancellationToken)
    {
        var declared = response.Content.Headers.ContentLength;
        RefuseDeclared(declared, location, maxBytes);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16,
            FileOptions.Asynchronous);
        return await CopyCappedAsync(body, file, location, maxBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The start of an error body, for a one-line message: at most <see cref="ErrorLimit"/> bytes are read, and a body
    /// that stalls or breaks yields what arrived.
    /// </summary>
    public static async Task<string> ReadErrorTextAsync(HttpResponseMessage response,
        CancellationToken cancellationToken)
    {
        var buffer = new byte[ErrorLimit];
        var filled = 0;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            int n;
            while (filled < buffer.Length
                && (n = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
            {
                filled += n;
            }
        }
        catch (Exception e) when (e is IOException or DepotException or HttpRequestException)
        {
            // The status is the error; a broken body only shortens its explanation.
        }

        return Encoding.UTF8.GetString(buffer, 0, filled);
    }

    /// <summary>True when both URLs have the same scheme, host and port: credentials for one are never sent to the
    /// other.</summary>
    public static bool SameOrigin(Uri? a, Uri b) =>
        a is { IsAbsoluteUri: true } && b.IsAbsoluteUri && a.Scheme == b.Scheme && a.Port == b.Port
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Retries for reads: exponential backoff with jitter on throttling, server errors and broken connections. A
    /// <c>Retry-After</c> up to <see cref="MaxRetryAfter"/> is obeyed; a longer one is not waited for: the answer goes
    /// back to the caller, whose message says what the server asked (<see cref="RetryAfterNote"/>).
    /// </summary>
    public static HttpRetryStrategyOptions RetryOptions(TimeSpan firstDelay) => new()
    {
        MaxRetryAttempts = 4,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = firstDelay,
        ShouldRetryAfterHeader = false,
        ShouldHandle = args => ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome)
            && !(args.Outcome.Result is { } response && RetryAfter(response) > MaxRetryAfter)),
        DelayGenerator = args => ValueTask.FromResult(
            args.Outcome.Result is { } response && RetryAfter(response) is { } wait && wait >= TimeSpan.Zero
                ? wait
                : (TimeSpan?)null),
    };

    /// <summary>"; it asks to retry after N s (Depot waits at most 30 s)" when the server asked for too long a wait,
    /// else "".</summary>
    public static string RetryAfterNote(HttpResponseMessage response) =>
        RetryAfter(response) is { } wait && wait > MaxRetryAfter
            ? $"; the server asks to retry after {Seconds(wait)} s, longer than the {Seconds(MaxRetryAfter)} s Depot "
                + "waits: try again later"
            : "";

    public static string Seconds(TimeSpan time) =>
        Math.Ceiling(time.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    private static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter is { } retryAfter
            ? retryAfter.Delta ?? (retryAfter.Date - DateTimeOffset.UtcNow)
            : null;

    private static void RefuseDeclared(long? declared, string location, long maxBytes)
    {
        if (declared > maxBytes)
        {
            throw new InvalidContentException(location,
                $"the server announces {declared} bytes, more than the {Describe(maxBytes)} allowed here");
        }
    }

    private static async Task<long> CopyCappedAsync(Stream body, Stream target, string location, long maxBytes,
        CancellationToken cancellationToken)
    {
        var chunk = new byte[81920];
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += n;
            if (total > maxBytes)
            {
                throw new InvalidContentException(location, $"larger than the {Describe(maxBytes)} allowed here");
            }

            await target.WriteAsync(chunk.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
        }

        return total;
    }

    private static string Describe(long bytes) =>
        bytes >= 1 << 20 ? $"{bytes >> 20} MiB" : bytes >= 1 << 10 ? $"{bytes >> 10} KiB" : $"{bytes} bytes";
}
