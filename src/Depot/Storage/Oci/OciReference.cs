namespace Depot.Storage.Oci;

/// <summary>
/// Where an OCI mirror lives: <c>oci://host[:port]/repository</c> (https) or <c>oci+http://…</c> (plain http), read
/// like a Docker reference: a first component without '.' or ':' that is not <c>localhost</c> is not a host, so such
/// names go to Docker Hub (with <c>library/</c> in front of a single component). Repositories are lower-cased as Spack
/// does.
/// </summary>
public sealed record OciReference(string Scheme, string Registry, string Repository)
{
    public const string DockerHub = "index.docker.io";

    /// <summary><c>https://host[:port]</c> or <c>http://…</c>: where the <c>/v2/</c> API is.</summary>
    public Uri BaseUri => new($"{Scheme}://{(Registry == "docker.io" ? DockerHub : Registry)}");

    /// <summary>The mirror URL as a user types it.</summary>
    public override string ToString() => $"{(Scheme == "https" ? "oci" : "oci+http")}://{Registry}/{Repository}";

    public static bool IsOciUrl(string url) =>
        url.StartsWith("oci://", StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("oci+http://", StringComparison.OrdinalIgnoreCase)
        || url.StartsWith("oci+https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// An image: <c>oci://host/repo:tag</c>, <c>oci+http://host/repo@sha256:…</c>, or a Docker reference
    /// (<c>ubuntu:24.04</c>, <c>ghcr.io/org/img:1</c>, https). The tag defaults to <c>latest</c>.
    /// </summary>
    /// <exception cref="DepotException">Not an image reference.</exception>
    public static (OciReference Repository, string Reference) ParseImage(string image)
    {
        var url = IsOciUrl(image) ? image : "oci://" + image;
        var colon = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var slash = url.LastIndexOf('/');
        var name = url[Math.Max(colon, slash + 1)..];
        string reference = "latest";
        var at = name.IndexOf('@', StringComparison.Ordinal);
        var tag = name.LastIndexOf(':');
        var cut = at >= 0 ? at : tag;
        if (cut >= 0)
        {
            reference = name[(cut + 1)..];
            url = url[..(url.Length - name.Length + cut)];
        }

        if (reference.Length == 0)
        {
            throw new DepotException(ErrorKind.Usage,
                $"'{image}' is not an image reference (REGISTRY/REPOSITORY[:TAG|@DIGEST])");
        }

        return (Parse(url), reference);
    }

    /// <exception cref="DepotException">The URL is not an OCI URL or names no repository.</exception>
    public static OciReference Parse(string url)
    {
        var colon = url.IndexOf("://", StringComparison.Ordinal);
        var scheme = colon > 0 ? url[..colon].ToLowerInvariant() : "";
        var httpScheme = scheme switch
        {
            "oci" or "oci+https" => "https",
            "oci+http" => "http",
            _ => throw new DepotException(ErrorKind.Usage,
                $"'{url}' is not an OCI mirror URL (oci://host/repository or oci+http://host/repository)"),
        };
        var rest = url[(colon + 3)..].Trim('/');
        if (rest.Length == 0)
        {
            throw new DepotException(ErrorKind.Usage,
                $"'{url}' names no registry and no repository ({url[..(colon + 3)]}HOST[:PORT]/REPOSITORY)");
        }

        var at = rest.IndexOfAny(['@', ':'], Math.Max(0, rest.LastIndexOf('/') + 1));
        if (at > 0 && rest.LastIndexOf('/') > 0)
        {
            throw new DepotException(ErrorKind.Usage,
                $"'{url}': a build cache mirror names a repository, not a tag or digest");
        }

        var parts = rest.Split('/', 2);
        if (parts.Length == 1
            && (rest.Contains('.', StringComparison.Ordinal) || rest.Contains(':', StringComparison.Ordinal)
                || rest == "localhost"))
        {
            throw new DepotException(ErrorKind.Usage,
                $"'{url}' names a registry but no repository (oci://{rest}/REPOSITORY)");
        }

        string registry;
        string repository;
        if (parts.Length == 2
            && (parts[0].Contains('.', StringComparison.Ordinal) || parts[0].Contains(':', StringComparison.Ordinal)
                || parts[0] == "localhost"))
        {
            registry = parts[0].ToLowerInvariant();
            repository = parts[1];
        }
        else
        {
            registry = DockerHub;
            repository = parts.Length == 1 ? "library/" + rest : rest;
        }

        repository = repository.ToLowerInvariant();
        if (repository.Length == 0
            || !System.Text.RegularExpressions.Regex.IsMatch(repository,
                "^[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*$"))
        {
            throw new DepotException(ErrorKind.Usage,
                $"'{url}': '{repository}' is not a valid OCI repository name (lower-case letters, digits, '.', '_', "
                + "'-', '/')");
        }

        return new OciReference(httpScheme, registry, repository);
    }
}
