namespace Depot.Storage;

/// <summary>
/// A full store: read, list and write (<see cref="IStoreReader"/>, <see cref="IStoreLister"/>,
/// <see cref="IStoreWriter"/>), as a local directory, a bucket prefix, a container or a registry provides. Code that
/// writes a build cache asks for this; code that only reads asks for <see cref="IStoreReader"/>, so a read-only store
/// (plain HTTP) can be given to readers and, by its type, to nothing else.
/// </summary>
public interface IObjectStore : IStoreLister, IStoreWriter;

/// <summary>Checks on a store's capabilities where a store chosen at run time (a mirror URL) meets code that needs
/// more.</summary>
public static class StoreCapabilities
{
    /// <summary>The store as a full store, for writing.</summary>
    /// <exception cref="ReadOnlyStoreException">The store can only be read (plain HTTP).</exception>
    public static IObjectStore RequireWritable(this IStoreReader store) =>
        store as IObjectStore ?? throw new ReadOnlyStoreException(store.Root);
}

/// <summary>A mirror that can only be read (plain HTTP) was given where a command writes; nothing was
/// written.</summary>
public sealed class ReadOnlyStoreException(string root) : DepotException(ErrorKind.Unsupported,
    $"{root}: this mirror is read-only (plain HTTP); write to the storage behind the web server (a directory, s3://, "
    + "gs://, azure://, oci://)")
{
    /// <summary>The read-only mirror's root.</summary>
    public string Root { get; } = root;
}
