namespace Depot.Catalog.Pages;

/// <summary>
/// The catalog's URLs, as the contract spells them: <c>/CACHE/</c>, <c>/CACHE/package/NAME</c>,
/// <c>/CACHE/spec/HASH</c>, <c>/CACHE/keys</c>, <c>/_depot/…</c>, each below <see cref="PageSettings.Root"/>. An export
/// links the <c>index.html</c> of each folder, so it also works opened from disk.
/// </summary>
internal sealed class CatalogLinks(PageSettings settings)
{
    private readonly string root = settings.Root;
    private readonly string folderEnd = settings.IsStatic ? "/index.html" : "";

    public string Home => settings.IsStatic ? root + "index.html" : root;

    public string Cache(string cache) => root + Segment(cache) + (settings.IsStatic ? "/index.html" : "/");

    public string Package(string cache, string name) =>
        root + Segment(cache) + "/package/" + Segment(name) + folderEnd;

    public string Spec(string cache, string hash) => root + Segment(cache) + "/spec/" + Segment(hash) + folderEnd;

    public string Keys(string cache) => root + Segment(cache) + "/keys" + folderEnd;

    /// <summary>A file in the cache's folder of an export (<c>search.json</c>, <c>packages/2/index.html</c>).</summary>
    public string CacheFile(string cache, string relative) => root + Segment(cache) + "/" + relative;

    public string Asset(string file) => root + "_depot/assets/" + file;

    public string Api(string cache) => root + "api/v1/caches/" + Segment(cache) + "/";

    public string Login(string? next) =>
        root + "_depot/login" + (next is null ? "" : "?next=" + Uri.EscapeDataString(next));

    public string LoginAction => root + "_depot/login";

    public string Logout => root + "_depot/logout";

    /// <summary>A cache's object (a key file) on the server: the Spack mirror path below the cache.</summary>
    public string MirrorObject(string cache, string key) => root + Segment(cache) + "/" + Path(key);

    /// <summary>One path segment, percent-encoded (names come from caches: never trusted to be URL-safe).</summary>
    public static string Segment(string text) => Uri.EscapeDataString(text);

    /// <summary>A relative key (<c>a/b/c.pub</c>), each segment percent-encoded.</summary>
    public static string Path(string key) => string.Join('/', key.Split('/').Select(Uri.EscapeDataString));
}
