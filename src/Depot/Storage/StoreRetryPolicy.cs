using System.Net.Sockets;

namespace Depot.Storage;

/// <summary>
/// How <see cref="RetryingStore"/> repeats a request that failed transiently (<see cref="IsTransient"/>): at most
/// <see cref="MaxAttempts"/> tries, waiting what the service asked (<see cref="TransientStoreException.RetryAfter"/>,
/// up to <see cref="HttpBodies.MaxRetryAfter"/>: a longer wait is reported at once, as the HTTP clients do) or else an
/// exponential backoff with jitter from <see cref="FirstDelay"/> up to <see cref="MaxDelay"/>. Cancellation stops
/// the wait at once. What is left after the last try is one line naming the object and the tries made.
/// </summary>
/// <param name="MaxAttempts">Tries in all, the first included.</param>
/// <param name="FirstDelay">The wait after the first failure when the service asked for none.</param>
/// <param name="MaxDelay">The longest backoff between two tries.</param>
public sealed record StoreRetryPolicy(int MaxAttempts, TimeSpan FirstDelay, TimeSpan MaxDelay)
{
    /// <summary>5 tries, 100 ms doubling to 5 s: the S3 SDK's standard mode gives a throttled bucket about as
    /// long.</summary>
    public static StoreRetryPolicy Default { get; } =
        new(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));

    /// <summary>
    /// True for failures that may pass if the request is made again: <see cref="TransientStoreException"/>, a body
    /// that ended early or a connection that broke (a socket error beneath an <see cref="IOException"/>), a timeout.
    /// Never a cancellation, any other <see cref="DepotException"/> (a store with its own retries has used them), nor a
    /// local file-system failure (a full disk stays full).
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        OperationCanceledException => false,
        TransientStoreException => true,
        DepotException => false,
        TimeoutException or System.Net.Http.HttpIOException => true,
        IOException io => Causes(io).Any(c => c is SocketException or TimeoutException
            or System.Net.Http.HttpIOException),
        _ => false,
    };

    /// <summary>
    /// Runs <paramref name="request"/> (given the try's number, from 1) until it succeeds, fails for good, or has been
    /// tried <see cref="MaxAttempts"/> times.
    /// </summary>
    /// <exception cref="TransientStoreException">Every try failed transiently (one line, naming the tries).</exception>
    public async Task<T> RunAsync<T>(Func<int, Task<T>> request, string location, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await request(attempt).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                await WaitAsync(e, attempt, location, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs a request that returns nothing; see <see cref="RunAsync{T}"/>.</summary>
    public Task RunAsync(Func<int, Task> request, string location, CancellationToken cancellationToken) =>
        RunAsync(async attempt =>
        {
            await request(attempt).ConfigureAwait(false);
            return true;
        }, location, cancellationToken);

    /// <summary>
    /// After the <paramref name="attempt"/>th try failed with <paramref name="failure"/> (transient): waits before the
    /// next, or throws when there is to be none.
    /// </summary>
    /// <exception cref="TransientStoreException">That was the last try, or the service asks for too long a
    /// wait.</exception>
    public async Task WaitAsync(Exception failure, int attempt, string location, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var asked = (failure as TransientStoreException)?.RetryAfter;
        if (asked > HttpBodies.MaxRetryAfter)
        {
            throw new TransientStoreException(location, $"{Reason(failure)}; the service asks to retry after "
                + $"{HttpBodies.Seconds(asked.Value)} s, longer than the {HttpBodies.Seconds(HttpBodies.MaxRetryAfter)}"
                + " s Depot waits: try again later", asked, failure);
        }

        if (attempt >= MaxAttempts)
        {
            throw new TransientStoreException(location,
                $"{Reason(failure)} (gave up after {attempt} tries)", asked, failure);
        }

        var backoff = FirstDelay * Math.Pow(2, attempt - 1);
        var wait = asked ?? TimeSpan.FromTicks((long)(Math.Min(backoff.Ticks, MaxDelay.Ticks)
            * (0.5 + Random.Shared.NextDouble() / 2)));
        await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
    }

    // The failure's own words, without the location a TransientStoreException already starts with, on one line.
    private static string Reason(Exception failure)
    {
        var text = failure is TransientStoreException t
            && t.Message.StartsWith(t.Location + ": ", StringComparison.Ordinal)
            ? t.Message[(t.Location.Length + 2)..] : failure.Message;
        return text.ReplaceLineEndings(" ").Trim();
    }

    private static IEnumerable<Exception> Causes(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
