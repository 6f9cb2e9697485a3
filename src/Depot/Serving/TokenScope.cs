namespace Depot.Serving;

/// <summary>What a token lets its holder do on one cache; each scope includes the ones before it.</summary>
public enum TokenScope
{
    /// <summary>Read every object (the index, manifests, blobs, keys).</summary>
    Read,

    /// <summary>Read, and push entries (blobs, then the manifest that names them).</summary>
    Push,

    /// <summary>Push, and change what the cache trusts and publishes (keys), and delete.</summary>
    Admin,
}
