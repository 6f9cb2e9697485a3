using Depot.Serving;

namespace Depot.Tests.Serving;

/// <summary>
/// serve.yaml: every field read, file names relative to the file, and each mistake one line naming the file, line,
/// column and field; mirrors named on the command line become public, read-only caches named after their last segment.
/// </summary>
public class ServeConfigTests
{
    [Fact]
    public void EveryFieldIsReadAndFileNamesAreRelativeToTheConfiguration()
    {
        using var dir = new TempDir();
        var path = dir.Combine("serve.yaml");
        File.WriteAllText(path, """
            listen: [127.0.0.1:9000, "[::1]:9001"]
            tls: {certificate: tls/cert.pem, key: tls/key.pem}
            limits: {max_body_bytes: 1048576, max_concurrent_uploads: 4}
            caches:
              main:
                mirror: s3://bucket/cache
                public: true
                allow_unsigned: false
                trusted_fingerprints: ["ABCD 1234", "ef56"]
                sign_with: ABCD1234
                upstreams:
                  - https://binaries.spack.io/v1.0
                  - {mirror: /srv/team, allow_unsigned: true}
              archive:
                mirror: /srv/archive
                read_only: yes
            """);

        var config = ServeConfig.Load(path);

        Assert.Equal(["127.0.0.1:9000", "[::1]:9001"], config.Listen);
        Assert.Equal(new ServeTls(dir.Combine("tls/cert.pem"), dir.Combine("tls/key.pem")), config.Tls);
        Assert.Equal(dir.Combine("tokens.json"), config.TokensFile);
        Assert.Equal(1048576, config.Limits.MaxBodyBytes);
        Assert.Equal(4, config.Limits.MaxConcurrentUploads);
        Assert.Equal(["main", "archive"], config.Caches.Select(c => c.Name));
        var main = config.Find("main")!;
        Assert.True(main.Public);
        Assert.False(main.ReadOnly);
        Assert.Equal(["ABCD1234", "EF56"], main.TrustedFingerprints);
        Assert.Equal("ABCD1234", main.SignWith);
        Assert.Equal(["https://binaries.spack.io/v1.0", "/srv/team"], main.Upstreams.Select(u => u.Mirror));
        Assert.True(main.Upstreams[1].AllowUnsigned);
        Assert.True(config.Find("archive")!.ReadOnly);
        Assert.False(config.Find("archive")!.Public);
        Assert.Equal(path, config.Source);
    }

    [Theory]
    [InlineData("caches:\n  main:\n    mirror: /x\n    pubic: true\n", "line 4, column 5: caches.main.pubic: unknown")]
    [InlineData("caches:\n  main:\n    public: true\n", "line 3, column 5: caches.main.mirror: required")]
    [InlineData("caches:\n  healthz:\n    mirror: /x\n", "line 2, column 3: caches.healthz: a cache name is one URL")]
    [InlineData("caches:\n  main:\n    mirror: /x\n    public: maybe\n", "caches.main.public: expected true or false")]
    [InlineData("limits: {max_body_bytes: -1}\ncaches: {a: {mirror: /x}}\n", "limits.max_body_bytes: expected a")]
    [InlineData("listen: 127.0.0.1:1\n", "caches: no cache is configured")]
    [InlineData("caches: [a, b\n", "invalid YAML")]
    public void AMistakeIsOneLineNamingTheFileAndTheField(string yaml, string expected)
    {
        using var dir = new TempDir();
        var path = dir.Combine("serve.yaml");
        File.WriteAllText(path, yaml);

        var error = Assert.Throws<DepotException>(() => ServeConfig.Load(path));

        Assert.Equal(ErrorKind.InvalidContent, error.Kind);
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void AMissingFileIsNotFoundNamingIt()
    {
        var error = Assert.Throws<DepotException>(() => ServeConfig.Load("/nonexistent/serve.yaml"));
        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Contains("/nonexistent/serve.yaml", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MirrorsOnTheCommandLineArePublicReadOnlyCachesNamedAfterTheirLastSegment()
    {
        var config = ServeConfig.ZeroConfig(["/srv/caches/main/", "s3://bucket/team/main", "gs://b/nightly",
            "team-cache"], null, "/tmp/tokens.json");

        Assert.Equal(["main", "main-2", "nightly", "team-cache"], config.Caches.Select(c => c.Name));
        Assert.All(config.Caches, c => Assert.True(c.Public && c.ReadOnly));
        Assert.Equal([ServeConfig.DefaultListen], config.Listen);
        Assert.Null(config.Source);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("s3://bucket/metrics")]
    public void AMirrorThatCannotNameACacheIsAUsageError(string mirror)
    {
        var error = Assert.Throws<DepotException>(() => ServeConfig.ZeroConfig([mirror], null, "/tmp/t"));
        Assert.Equal(ErrorKind.Usage, error.Kind);
        Assert.Contains(mirror, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("blobs/sha256/ab/" + Hex, Freshness.Immutable)]
    [InlineData("v3/manifests/index/index.manifest.json", Freshness.Revalidate)]
    [InlineData("build_cache/index.json", Freshness.Revalidate)]
    [InlineData("build_cache/index.json.hash", Freshness.Revalidate)]
    [InlineData("v3/manifests/spec/greet/greet-1.0-abc.spec.manifest.json", Freshness.Short)]
    [InlineData("build_cache/linux/gcc/greet-1.0/x.spack", Freshness.Short)]
    public void FreshnessFollowsWhatTheKeyNames(string key, Freshness expected) =>
        Assert.Equal(expected, ServedKeys.FreshnessOf(key));

    private const string Hex = "c3607bc9ed60f5ed4e48a754a3bd3cab96a9d3112ca6f33c829808cfdc49d565";
}
