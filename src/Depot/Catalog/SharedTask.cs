namespace Depot.Catalog;

/// <summary>
/// A computation shared by every request that needs it: started by the first, awaited by the rest. It runs without
/// any one request's cancellation (a caller that gives up stops waiting, not the work), and one that failed is started
/// again by the next caller instead of answering its error for ever.
/// </summary>
internal sealed class SharedTask<T>
{
    private readonly Func<CancellationToken, Task<T>> compute;
    private readonly Lock gate = new();
    private Task<T>? task;

    public SharedTask(Func<CancellationToken, Task<T>> compute) => this.compute = compute;

    public Task<T> GetAsync(CancellationToken cancellationToken)
    {
        Task<T> current;
        lock (gate)
        {
            if (task is null || task.IsFaulted || task.IsCanceled)
            {
                task = Task.Run(() => compute(CancellationToken.None), CancellationToken.None);
            }

            current = task;
        }

        return current.WaitAsync(cancellationToken);
    }
}
