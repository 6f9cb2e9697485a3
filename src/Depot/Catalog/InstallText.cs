namespace Depot.Catalog;

/// <summary>
/// The commands a spec page shows: Spack's (<c>spack mirror add NAME URL &amp;&amp; spack buildcache keys --install
/// --trust &amp;&amp; spack install --use-buildcache only /HASH</c>; <c>--unsigned</c> on the mirror when the entry is
/// unsigned, as Spack would refuse it otherwise), Depot's (<c>depot install /HASH --from URL</c>) and a
/// <c>spack.yaml</c> snippet. No token ever goes in: credentials and a <c>/_t/TOKEN/</c> path are taken out of the
/// URL.
/// </summary>
public static class InstallText
{
    /// <summary>The commands for spec <paramref name="hash"/> of cache <paramref name="cache"/> at
    /// <paramref name="mirrorUrl"/>.</summary>
    public static InstallCommands For(string cache, string mirrorUrl, string hash, bool unsigned)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var url = WithoutCredentials(mirrorUrl);
        var add = unsigned ? $"spack mirror add --unsigned {cache} {url}" : $"spack mirror add {cache} {url}";
        var spack = $"{add} && spack buildcache keys --install --trust && spack install --use-buildcache only /{hash}";
        var depot = $"depot install /{hash} --from {url}";
        var yaml = "spack:\n  mirrors:\n    " + cache + ":\n      url: " + url + "\n"
            + (unsigned ? "      signed: false\n" : "") + "  specs:\n  - /" + hash + "\n";
        return new InstallCommands(url, spack, depot, yaml);
    }

    /// <summary><paramref name="url"/> without user info, query, fragment, or a leading <c>/_t/TOKEN</c>.</summary>
    public static string WithoutCredentials(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.IsFile)
        {
            return url;
        }

        var path = uri.AbsolutePath;
        if (path.StartsWith("/_t/", StringComparison.Ordinal))
        {
            var end = path.IndexOf('/', 4);
            path = end < 0 ? "/" : path[end..];
        }

        return new UriBuilder(uri.Scheme, uri.Host, uri.Port, path).Uri.ToString();
    }
}
