namespace Depot.Layout;

/// <summary>The mirror holds no build cache yet (a new mirror, or a wrong path).</summary>
public sealed class NoBuildCacheException : DepotException
{
    /// <summary>No layout's files at <paramref name="root"/>.</summary>
    public NoBuildCacheException(string root)
        : this(root, $"{root}: no build cache here (neither v3/ nor build_cache/ found)")
    {
    }

    /// <summary>No build cache at <paramref name="root"/>, for the reason <paramref name="message"/> gives.</summary>
    public NoBuildCacheException(string root, string message) : base(ErrorKind.NotFound, message) => Root = root;

    /// <summary>The mirror.</summary>
    public string Root { get; }
}
