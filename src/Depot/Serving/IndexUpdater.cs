using Depot.Layout;
using Depot.Operations;

namespace Depot.Serving;

/// <summary>
/// Keeps one cache's index up to date as entries are committed, coalescing: at most one index run per cache is in
/// flight in this process; a commit that asks while one runs waits for the next run (the running one may have listed
/// the entries before its manifest was written), and every commit waiting then shares that one run. Each run is
/// <see cref="IndexOperation.IndexLayoutAsync"/>: incremental, and written conditionally, so other server processes
/// over the same store (replicas) never lose each other's entries.
/// </summary>
public sealed class IndexUpdater
{
    private readonly Func<IBuildCacheLayout> layout;
    private readonly IndexOptions options;
    private readonly Lock gate = new();
    private TaskCompletionSource<IndexResult>? waiting;
    private bool running;

    /// <summary>Updates the index of the layout <paramref name="layout"/> gives (made on first use).</summary>
    public IndexUpdater(Func<IBuildCacheLayout> layout, IndexOptions options)
    {
        this.layout = layout;
        this.options = options;
    }

    /// <summary>How many index runs this updater made (for tests and metrics: fewer than commits under load).
    /// </summary>
    public int Runs { get; private set; }

    /// <summary>
    /// Returns once an index run that started after this call has written the index (so it holds every entry written
    /// before the call). Cancelling stops the wait, not the run, which other commits share.
    /// </summary>
    /// <exception cref="DepotException">The run failed (every waiter of that run gets its error).</exception>
    public Task<IndexResult> UpdateAsync(CancellationToken cancellationToken)
    {
        Task<IndexResult> task;
        lock (gate)
        {
            waiting ??= new TaskCompletionSource<IndexResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            task = waiting.Task;
            if (!running)
            {
                running = true;
                _ = Task.Run(RunLoopAsync, CancellationToken.None);
            }
        }

        return task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// One index run; when other writers (another replica) kept replacing the index under it, waits a random while and
    /// runs again, for up to <see cref="ContendedFor"/>: the entry is in the store already, and a commit's answer
    /// promises the index holds it.
    /// </summary>
    private async Task<IndexResult> IndexOnceSettledAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                Runs++;
                return await IndexOperation.IndexLayoutAsync(layout(), options, null, CancellationToken.None)
                    .ConfigureAwait(false);
            }
            catch (DepotException e) when (e.Kind == ErrorKind.Conflict && clock.Elapsed < ContendedFor)
            {
                await Task.Delay(Random.Shared.Next(50, 500)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>How long a commit's index run keeps trying against other writers.</summary>
    internal static TimeSpan ContendedFor { get; } = TimeSpan.FromSeconds(60);

    private async Task RunLoopAsync()
    {
        while (true)
        {
            TaskCompletionSource<IndexResult>? batch;
            lock (gate)
            {
                batch = waiting;
                waiting = null;
                if (batch is null)
                {
                    running = false;
                    return;
                }
            }

            try
            {
                batch.SetResult(await IndexOnceSettledAsync().ConfigureAwait(false));
            }
            catch (Exception e)
            {
                // Handed to every commit waiting on this run; the loop goes on for the next one.
                batch.SetException(e);
            }
        }
    }
}
