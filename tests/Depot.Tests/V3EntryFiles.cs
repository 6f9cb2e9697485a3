using System.Security.Cryptography;
using System.Text;
using Depot.Formats;
using Depot.Layout;

namespace Depot.Tests;

/// <summary>Writes one unsigned layout-v3 entry straight into a directory mirror, as Spack lays it out: the gzip'd
/// spec and tarball blobs, the spec manifest naming them, and <c>v3/layout.json</c>.</summary>
internal static class V3EntryFiles
{
    public static void Write(string root, string name, string version, string hash, string specJson,
        string tarballText, string specMediaType = MediaTypes.SpecV5)
    {
        var spec = SpackGzip.Compress(Encoding.UTF8.GetBytes(specJson));
        var tarball = SpackGzip.Compress(Encoding.UTF8.GetBytes(tarballText));
        var records = new[]
        {
            new BlobRecord(tarball.Length, MediaTypes.Tarball, "gzip", "sha256", Hex(tarball)),
            new BlobRecord(spec.Length, specMediaType, "gzip", "sha256", Hex(spec)),
        };
        Put(root, records[0].BlobKey, tarball);
        Put(root, records[1].BlobKey, spec);
        Put(root, $"{BuildCacheV3.SpecManifestPrefix}{name}/{name}-{version}-{hash}{BuildCacheV3.SpecManifestSuffix}",
            new BuildCacheManifest(records).ToJsonBytes());
        Put(root, BuildCacheV3.LayoutKey, BuildCacheV3.LayoutJson);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static void Put(string root, string key, byte[] bytes)
    {
        var path = Path.Combine(root, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }
}
