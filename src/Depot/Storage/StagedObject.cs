namespace Depot.Storage;

/// <summary>An object being written before its key is known; see <see cref="IObjectStore.CreateStagedAsync"/>.</summary>
public interface IStagedObject : IAsyncDisposable
{
    /// <summary>Where to write the content. Do not dispose it: commit or dispose the staged object.</summary>
    Stream Content { get; }

    /// <summary>Publishes the content under <paramref name="key"/> (replacing any object there), atomically.</summary>
    Task CommitAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>
/// Default staging: a temporary file on the local disk, uploaded with <see cref="IObjectStore.WriteAsync"/> on commit.
/// Disk use is bounded by the objects in flight, never their sum.
/// </summary>
internal sealed class TempFileStagedObject : IStagedObject
{
    private readonly IObjectStore store;
    private readonly string path;
    private readonly FileStream file;

    public TempFileStagedObject(IObjectStore store)
    {
        this.store = store;
        path = Path.Combine(Path.GetTempPath(), $"depot-staged-{Guid.NewGuid():N}");
        file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
    }

    public Stream Content => file;

    public async Task CommitAsync(string key, CancellationToken cancellationToken = default)
    {
        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        file.Position = 0;
        await store.WriteAsync(key, file, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => file.DisposeAsync();
}
