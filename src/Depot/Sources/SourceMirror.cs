using System.Runtime.CompilerServices;
using Depot.Storage;

namespace Depot.Sources;

/// <summary>
/// Spack's source mirror layout, the other half of a mirror beside the build cache. Spack fetches a package's source
/// from <c>&lt;mirror&gt;/_source-cache/archive/&lt;first 2 of digest&gt;/&lt;digest&gt;.&lt;ext&gt;</c> (its
/// download cache, <c>var/spack/cache</c>, has the same layout), and VCS checkouts from
/// <c>_source-cache/git/&lt;repo path&gt;/&lt;commit&gt;.tar.gz</c> (and <c>svn/</c>, <c>hg/</c>, <c>cvs/</c>).
/// <c>spack mirror create</c> also links <c>&lt;package&gt;/&lt;package&gt;-&lt;version&gt;.&lt;ext&gt;</c> to each
/// archive, for people: Spack never fetches those names when the package has a digest, so Depot neither reads nor
/// writes them (and it follows no link inside a mirror). Everything here goes through the store interfaces, so every
/// store holds a source mirror the same way.
/// </summary>
public static class SourceMirror
{
    /// <summary>Where every source object lives.</summary>
    public const string Prefix = "_source-cache/";

    /// <summary>Where content-addressed archives live.</summary>
    public const string ArchivePrefix = Prefix + "archive/";

    private static readonly string[] CheckoutFolders = ["git", "svn", "hg", "cvs"];

    /// <summary>The key of the archive named by <paramref name="digest"/> (with <paramref name="extension"/>, if
    /// any), as Spack writes and fetches it.</summary>
    public static string ArchiveKey(SourceDigest digest, string? extension)
    {
        ArgumentNullException.ThrowIfNull(digest);
        var suffix = string.IsNullOrEmpty(extension) ? "" : "." + extension;
        return $"{ArchivePrefix}{digest.Hex[..2]}/{digest.Hex}{suffix}";
    }

    /// <summary>What a key under <see cref="Prefix"/> is, and whether Spack would write it.</summary>
    public static SourceObject Describe(StoreObject listed)
    {
        ArgumentNullException.ThrowIfNull(listed);
        var key = listed.Key;
        if (!key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return new SourceObject(listed, SourceObjectKind.Unknown, null, null, "not under " + Prefix);
        }

        var parts = key[Prefix.Length..].Split('/');
        if (parts[0] == "archive")
        {
            return DescribeArchive(listed, parts);
        }

        if (CheckoutFolders.Contains(parts[0]))
        {
            return new SourceObject(listed, SourceObjectKind.Checkout, null, null,
                parts.Length < 3 ? $"a {parts[0]} checkout is stored as {parts[0]}/<repository path>/<revision>"
                    : null);
        }

        return new SourceObject(listed, SourceObjectKind.Unknown, null, null,
            "not a place Spack stores sources (archive/, git/, svn/, hg/, cvs/)");
    }

    private static SourceObject DescribeArchive(StoreObject listed, string[] parts)
    {
        const string Shape = "an archive is stored as archive/<first 2 of its digest>/<digest>[.<extension>]";
        if (parts.Length != 3)
        {
            return new SourceObject(listed, SourceObjectKind.Archive, null, null, Shape);
        }

        var name = parts[2];
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var digest = SourceDigest.Parse(dot < 0 ? name : name[..dot]);
        var extension = dot < 0 ? null : name[(dot + 1)..];
        if (digest is null)
        {
            return new SourceObject(listed, SourceObjectKind.Archive, null, extension,
                $"'{name}' is not named by a md5, sha1, sha224, sha256, sha384 or sha512 hex digest; {Shape}");
        }

        if (!string.Equals(parts[1], digest.Hex[..2], StringComparison.OrdinalIgnoreCase) || extension is "")
        {
            return new SourceObject(listed, SourceObjectKind.Archive, null, extension, Shape);
        }

        return new SourceObject(listed, SourceObjectKind.Archive, digest, extension, null);
    }

    /// <summary>
    /// Every object of the source mirror in <paramref name="store"/>, described (kind, digest, well-formed or why
    /// not), in no particular order. Nothing is read but the listing. An empty result: no source mirror.
    /// </summary>
    public static async IAsyncEnumerable<SourceObject> ListAsync(IStoreLister store,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await foreach (var listed in store.ListAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return Describe(listed);
        }
    }

    /// <summary>True when <paramref name="store"/> lists at least one object under <see cref="Prefix"/>.</summary>
    public static async Task<bool> HoldsSourcesAsync(IStoreLister store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await foreach (var _ in store.ListKeysAsync(Prefix, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        return false;
    }

    /// <summary>
    /// Reads <paramref name="source"/> from <paramref name="store"/> whole, streamed, and checks its bytes against
    /// the digest in its name.
    /// </summary>
    /// <exception cref="InvalidContentException">The object is missing or its bytes do not match its name.</exception>
    /// <exception cref="ArgumentException">The object is not a well-formed archive
    /// (<see cref="SourceObject.IsCheckable"/>).</exception>
    public static async Task<long> CheckAsync(IStoreReader store, SourceObject source,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(source);
        var digest = source.Digest ?? throw new ArgumentException($"{source.Key} is not named by a digest",
            nameof(source));
        Stream stream;
        try
        {
            stream = await store.OpenReadAsync(source.Key, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreObjectNotFoundException)
        {
            throw new InvalidContentException(store.Describe(source.Key), "listed, but gone when read");
        }

        await using (stream.ConfigureAwait(false))
        using (var hasher = digest.CreateHasher())
        {
            var buffer = new byte[1 << 16];
            long length = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
                length += read;
            }

            CheckDigest(store.Describe(source.Key), digest, hasher.Finish(), length);
            return length;
        }
    }

    /// <summary>Throws unless <paramref name="actual"/> is the digest the name says.</summary>
    /// <exception cref="InvalidContentException">It is not.</exception>
    internal static void CheckDigest(string location, SourceDigest expected, string actual, long length)
    {
        if (actual != expected.Hex)
        {
            throw new InvalidContentException(location, $"checksum mismatch: the name says {expected.Algorithm} "
                + $"{expected.Hex}, the content ({length} bytes) is {expected.Algorithm} {actual}");
        }
    }
}
