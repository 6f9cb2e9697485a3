namespace Depot.Storage;

/// <summary>
/// A store request that failed in a way that may pass if it is made again: the service throttled it (S3
/// <c>SlowDown</c>, HTTP 429 or 503, with the wait it asked for in <see cref="RetryAfter"/>), it timed out, or the
/// connection broke. Stores with their own retry policy (the S3 and Azure SDKs, the HTTP and registry clients) retry
/// these themselves and report what is left as a plain <see cref="DepotException"/>; a store without one throws this,
/// and <see cref="RetryingStore"/> makes the request again.
/// </summary>
public sealed class TransientStoreException : DepotException
{
    /// <summary>Names the object (<paramref name="location"/>) and what went wrong
    /// (<paramref name="reason"/>).</summary>
    public TransientStoreException(string location, string reason, TimeSpan? retryAfter = null,
        Exception? innerException = null)
        : base(ErrorKind.IO, $"{location}: {reason}", innerException)
    {
        Location = location;
        RetryAfter = retryAfter;
    }

    /// <summary>The object's path or URL.</summary>
    public string Location { get; }

    /// <summary>How long the service asked to wait before the next try (<c>Retry-After</c>), when it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
