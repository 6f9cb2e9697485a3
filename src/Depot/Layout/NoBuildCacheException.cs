namespace Depot.Layout;

/// <summary>The mirror holds no build cache yet (a new mirror, or a wrong path).</summary>
public sealed class NoBuildCacheException(string root)
    : DepotException(ErrorKind.NotFound, $"{root}: no build cache here (neither v3/ nor build_cache/ found)");
