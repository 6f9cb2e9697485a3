namespace Depot.Storage;

/// <summary>An object being written before its key is known; see
/// <see cref="IStoreWriter.CreateStagedAsync"/>.</summary>
public interface IStagedObject : IAsyncDisposable
{
    /// <summary>Where to write the content. Do not dispose it: commit or dispose the staged object.</summary>
    Stream Content { get; }

    /// <summary>Publishes the content under <paramref name="key"/> (replacing any object there), atomically.</summary>
    Task CommitAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>
/// Default staging: an owner-only temporary file in this process's private folder (<see cref="PrivateTemp"/>), uploaded
/// with <see cref="IStoreWriter.WriteAsync"/> on commit. Disk use is bounded by the objects in flight, never their sum.
/// </summary>
internal sealed class TempFileStagedObject : IStagedObject
{
    private readonly IStoreWriter store;
    private readonly FileStream file;

    public TempFileStagedObject(IStoreWriter store)
    {
        this.store = store;
        file = PrivateTemp.CreateFile("depot-staged");
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
