using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Depot.Sources;

namespace Depot.Tests.Sources;

/// <summary>
/// A Spack checkout with a download cache, as Spack leaves one after fetching: <c>var/spack/cache/_source-cache/</c>
/// with two source tarballs named by their sha256 and one archived git checkout, plus the per-package links
/// <c>spack mirror create</c> makes (<c>&lt;package&gt;/&lt;package&gt;-&lt;version&gt;.tar.gz</c>, relative
/// symlinks to the archives), which Spack never fetches and Depot must neither push nor follow.
/// </summary>
internal sealed class FakeSpackSources : IDisposable
{
    public const string GitKey =
        "_source-cache/git/example.org/tools/hello.git/0123456789abcdef0123456789abcdef01234567.tar.gz";

    private readonly TempDir dir = new();

    public FakeSpackSources()
    {
        Directory.CreateDirectory(System.IO.Path.Combine(SpackRoot, "opt", "spack"));
        Archives = [Add("zlib", "1.3.1"), Add("hello", "2.12")];
        Write(GitKey, Tarball("hello-git", "checkout"));
    }

    /// <summary>The Spack checkout (its install tree is <c>opt/spack</c>).</summary>
    public string SpackRoot => dir.Combine("spack");

    /// <summary>The download cache: the folder holding <c>_source-cache/</c>.</summary>
    public string Cache => System.IO.Path.Combine(SpackRoot, "var", "spack", "cache");

    /// <summary>The archives: key, bytes, package.</summary>
    public IReadOnlyList<(string Key, byte[] Bytes, string Package)> Archives { get; }

    /// <summary>Every object a push must upload (archives and the git checkout).</summary>
    public IEnumerable<string> Keys => Archives.Select(a => a.Key).Append(GitKey);

    public string PathOf(string key) => System.IO.Path.Combine([Cache, .. key.Split('/')]);

    public void Write(string key, byte[] bytes)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(PathOf(key))!);
        File.WriteAllBytes(PathOf(key), bytes);
    }

    /// <summary>A gzip'd tarball with one file, <c>NAME/README</c>.</summary>
    public static byte[] Tarball(string name, string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name + "/README")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text + "\n")),
            };
            tar.WriteEntry(entry);
        }

        return buffer.ToArray();
    }

    public static string KeyOf(byte[] bytes, string extension = "tar.gz") =>
        SourceMirror.ArchiveKey(SourceDigest.Parse(Convert.ToHexStringLower(SHA256.HashData(bytes)))!, extension);

    private (string Key, byte[] Bytes, string Package) Add(string package, string version)
    {
        var bytes = Tarball($"{package}-{version}", $"{package} {version} sources");
        var key = KeyOf(bytes);
        Write(key, bytes);
        var alias = System.IO.Path.Combine(Cache, package, $"{package}-{version}.tar.gz");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(alias)!);
        File.CreateSymbolicLink(alias, System.IO.Path.Combine("..", System.IO.Path.Combine(key.Split('/'))));
        return (key, bytes, package);
    }

    public void Dispose() => dir.Dispose();
}
