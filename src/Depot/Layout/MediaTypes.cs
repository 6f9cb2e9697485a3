namespace Depot.Layout;

/// <summary>Media types of the records in v3 manifests (Spack 1.x <c>URLBuildcacheEntry</c>).</summary>
public static class MediaTypes
{
    public const string Tarball = "application/vnd.spack.install.v2.tar+gzip";
    public const string SpecV5 = "application/vnd.spack.spec.v5+json";
    public const string SpecPrefix = "application/vnd.spack.spec.v";
    public const string IndexV8 = "application/vnd.spack.db.v8+json";
    public const string IndexPrefix = "application/vnd.spack.db.v";
    public const string Key = "application/pgp-keys";
    public const string KeyIndex = "application/vnd.spack.keyindex.v1+json";
}
