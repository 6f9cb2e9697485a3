using System.Globalization;

namespace Depot.Tests.Storage;

/// <summary>
/// The CNCF distribution registry 2.8 (Debian package <c>docker-registry</c>, installed by <c>./test.sh</c>) on a free
/// 127.0.0.1 port: filesystem storage in a temp folder, deletes enabled; subclasses add TLS, htpasswd or seed data.
/// </summary>
public class DockerRegistry : TestServer
{
    /// <summary>Storage copied in before start (a registry's own <c>docker/registry/v2</c> tree), or null for
    /// empty.</summary>
    protected virtual string? Seed => null;

    protected virtual string? Htpasswd => null;

    protected virtual bool Tls => false;

    /// <summary>An <c>auth:</c> section of the registry config, for other schemes than htpasswd.</summary>
    protected virtual string AuthYaml => "";

    public string Scheme => Tls ? "oci" : "oci+http";

    /// <summary>A mirror URL for <paramref name="repository"/> in this registry.</summary>
    public string Url(string repository) => $"{Scheme}://127.0.0.1:{Port}/{repository}";

    public static string CaCertificate => TestData.Path("spack-1.2-oci/tls/ca.pem");

    protected override string ProgramPath(string program) =>
        new[] { "/usr/bin", "/usr/local/bin" }.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{program} is not installed: run ./test.sh, which installs the Debian "
            + "package docker-registry");

    protected override (string, string[]) Command(int port)
    {
        var config = Path.Combine(DataPath, "config.yml");
        if (port != 0)
        {
            var storage = Path.Combine(DataPath, "storage");
            Directory.CreateDirectory(storage);
            if (Seed is { } seed)
            {
                CopyTree(seed, storage);
            }

            var yaml = $"""
                version: 0.1
                log:
                  level: error
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: {storage}
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}
                  secret: depot-test-secret

                """;
            if (Tls)
            {
                yaml += $"""
                      tls:
                        certificate: {TestData.Path("spack-1.2-oci/tls/server.pem")}
                        key: {TestData.Path("spack-1.2-oci/tls/server.key")}

                    """;
            }

            if (Htpasswd is { } htpasswd)
            {
                yaml += $"""
                    auth:
                      htpasswd:
                        realm: Depot Test Registry
                        path: {htpasswd}

                    """;
            }

            yaml += AuthYaml;

            File.WriteAllText(config, yaml);
        }

        return ("docker-registry", ["serve", config]);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}

/// <summary>The registry serving the storage real Spack 1.2 pushed (repository <c>depot-fixtures</c>, and gcc-runtime's
/// big layer left out).</summary>
public sealed class SpackFixtureRegistry : DockerRegistry
{
    protected override string? Seed => TestData.Path("spack-1.2-oci/registry-storage");
}

/// <summary>https with the fixture's throwaway CA (server certificate for 127.0.0.1).</summary>
public sealed class TlsRegistry : DockerRegistry
{
    protected override bool Tls => true;
}

/// <summary>htpasswd Basic auth over plain http: user <c>depot</c>, password <c>s3cret-fixture</c>.</summary>
public sealed class BasicAuthRegistry : DockerRegistry
{
    public const string User = "depot";
    public const string Password = "s3cret-fixture";

    protected override string? Htpasswd => TestData.Path("spack-1.2-oci/registry-config/htpasswd");
}
