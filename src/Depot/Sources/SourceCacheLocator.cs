namespace Depot.Sources;

/// <summary>
/// Finds Spack's download cache, the folder holding <c>_source-cache/</c>: a folder given (the cache itself or its
/// <c>_source-cache</c>), else <c>var/spack/cache</c> of the Spack whose install tree is
/// <c>&lt;spack&gt;/opt/spack</c>, else of <c>$SPACK_ROOT</c> (Spack's default <c>config:source_cache</c>; a site that
/// moved it names the folder).
/// </summary>
public static class SourceCacheLocator
{
    /// <summary>The download cache's root (the folder that holds <c>_source-cache/</c>).</summary>
    /// <exception cref="DepotException">Nothing says where it is, or the place holds no
    /// <c>_source-cache/</c>.</exception>
    public static string Resolve(string? sourceCache, string? installTree = null, string? spackRoot = null)
    {
        var given = sourceCache is not null;
        var root = sourceCache ?? SpackOf(installTree) ?? (string.IsNullOrWhiteSpace(spackRoot) ? null : spackRoot);
        if (root is null)
        {
            throw new DepotException(ErrorKind.Usage,
                "no Spack download cache given (the folder holding _source-cache/), and SPACK_ROOT is not set");
        }

        if (!given)
        {
            root = Path.Combine(root, "var", "spack", "cache");
        }

        root = Path.GetFullPath(root).TrimEnd('/');
        if (Path.GetFileName(root) == SourceMirror.Prefix.TrimEnd('/'))
        {
            root = Path.GetDirectoryName(root)!;
        }

        if (!Directory.Exists(Path.Combine(root, SourceMirror.Prefix)))
        {
            throw new DepotException(ErrorKind.NotFound,
                $"{root}: not a Spack download cache (no {SourceMirror.Prefix} inside){(given ? "" : " — Spack "
                    + "downloads there only once it has fetched a source; config:source_cache may have moved it")}");
        }

        return root;
    }

    /// <summary>The Spack checkout of an install tree in its default place (<c>&lt;spack&gt;/opt/spack</c>).</summary>
    private static string? SpackOf(string? installTree)
    {
        if (string.IsNullOrWhiteSpace(installTree))
        {
            return null;
        }

        var tree = new DirectoryInfo(Path.GetFullPath(installTree).TrimEnd('/'));
        return tree is { Name: "spack", Parent: { Name: "opt", Parent: { } spack } } ? spack.FullName : null;
    }
}
