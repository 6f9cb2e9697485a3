using System.Collections.Concurrent;
using Depot.Storage;

namespace Depot.Tests.Storage;

/// <summary>Wraps a store, records which keys were opened and written, and can fail writes to chosen keys.</summary>
public sealed class RecordingStore(IObjectStore inner) : IObjectStore
{
    public ConcurrentBag<string> Opened { get; } = [];

    public ConcurrentBag<string> Written { get; } = [];

    /// <summary>Writes to keys matching this fail, as if the process died mid-upload.</summary>
    public Func<string, bool> FailWrite { get; set; } = _ => false;

    public string Root => inner.Root;

    public bool ConditionalWritesAreAtomic => inner.ConditionalWritesAreAtomic;

    public string Describe(string key) => inner.Describe(key);

    public IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
        inner.ListAsync(prefix, cancellationToken);

    public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
        inner.GetInfoAsync(key, cancellationToken);

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        Opened.Add(key);
        return inner.OpenReadAsync(key, cancellationToken);
    }

    public Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        if (FailWrite(key))
        {
            throw new IOException($"simulated crash while writing {key}");
        }

        Written.Add(key);
        return inner.WriteAsync(key, content, cancellationToken);
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(key, cancellationToken);
}
