namespace Depot.Storage;

/// <summary>
/// The list capability: a store that can enumerate its keys (a directory, a bucket, a container, a registry's tags).
/// Plain HTTP cannot, so layouts that find no <see cref="IStoreLister"/> take the entries a cache holds from its index,
/// as Spack does over HTTP. Every implementation runs the list contract suite (<c>StoreListerContractTests</c>).
/// </summary>
public interface IStoreLister : IStoreReader
{
    /// <summary>
    /// Lists every object whose key starts with <paramref name="prefix"/>, at any depth (a prefix that ends in '/'
    /// lists a "folder"). Order is unspecified. A prefix that matches nothing yields nothing (no error).
    /// </summary>
    IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>
    /// Like <see cref="ListAsync"/>, keys only. The default takes them from <see cref="ListAsync"/>; a store may
    /// answer faster (a local directory then needs no stat per file).
    /// </summary>
    async IAsyncEnumerable<string> ListKeysAsync(string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var obj in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return obj.Key;
        }
    }
}
