using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Depot.Storage.Oci;

/// <summary>A manifest as the registry served it: exact bytes (their sha256 is the digest) and media type.</summary>
public sealed record OciManifestBytes(byte[] Bytes, string Digest, string MediaType);

/// <summary>
/// How to reach a registry: credentials (null: found like container tools do), a private CA, upload chunking, how
/// long a body may stall (null: <see cref="HttpBodies.DefaultIdleTimeout"/>) and how many tag-list pages are followed.
/// </summary>
/// <remarks><c>Environment</c>: where <c>DOCKER_CONFIG</c>, <c>HOME</c> and the <c>PATH</c> of credential helpers are
/// read (the host's); none by default, so no Docker config is consulted.</remarks>
public sealed record OciClientOptions(OciCredential? Credential = null, string? CaCertificateFile = null,
    long ChunkedUploadThreshold = 64L << 20,
    int ChunkSize = 16 << 20, TimeSpan? IdleTimeout = null, int MaxTagPages = 10_000,
    EnvironmentVariables? Environment = null);

/// <summary>
/// The OCI distribution API for one repository, by hand on HttpClient (no client library exists here): manifests by
/// tag or digest, blobs (HEAD, GET checked against digest and size, monolithic POST+PUT or chunked PATCH uploads,
/// cross-repository mount), tags with <c>Link</c> pagination, referrers. Authentication is
/// <see cref="OciAuthHandler"/>; GET and HEAD are retried with backoff and jitter on throttling and server errors.
/// Nothing the registry sends is trusted for size or time: every body is read against a cap (<see cref="HttpBodies"/>)
/// and fails when it stalls (<see cref="IdleTimeoutHandler"/>), and paging never leaves the registry's origin.
/// </summary>
public sealed partial class OciRegistryClient : IDisposable
{
    /// <summary>What Spack asks for when it reads a manifest; registry 2.8 answers 404 to a GET lacking the OCI
    /// type.</summary>
    public const string ManifestAccept =
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, "
        + "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";

    private readonly HttpClient http;
    private readonly OciClientOptions options;
    private volatile bool noReferrersApi;

    public OciRegistryClient(OciReference reference, OciClientOptions? options = null)
    {
        Reference = reference;
        this.options = options ??= new OciClientOptions();
        var environment = options.Environment ?? EnvironmentVariables.Empty;
        var credential = new Lazy<OciCredential?>(() => OciCredentials.Resolve(reference.Registry, options.Credential,
            environment));
        var transport = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 64,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        if (options.CaCertificateFile is { } caFile)
        {
            var authority = LoadCertificate(caFile);
            transport.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None
                || (errors == System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors
                    && certificate is X509Certificate2 cert && ChainsTo(cert, authority));
        }

        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(HttpBodies.RetryOptions(TimeSpan.FromMilliseconds(250))).Build();
        var retrying = new ResilienceHandler(request =>
        {
            // Only reads are repeated: an upload session or manifest PUT is not safely sent twice.
            return request.Method == HttpMethod.Get || request.Method == HttpMethod.Head ? pipeline
                : ResiliencePipeline<HttpResponseMessage>.Empty;
        });
        // Token requests go through the same time limits but never through the registry's authentication.
        var guarded = new IdleTimeoutHandler(options.IdleTimeout ?? HttpBodies.DefaultIdleTimeout)
        {
            InnerHandler = transport,
        };
        var dockerConfig = OciCredentials.DockerConfigPath(environment);
        retrying.InnerHandler = new OciAuthHandler(reference, credential, guarded, dockerConfig)
        {
            InnerHandler = guarded,
        };
        http = new HttpClient(retrying) { Timeout = TimeSpan.FromMinutes(30) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("depot/0.1");
    }

    public OciReference Reference { get; }

    private Uri Api(string path) => new(Reference.BaseUri, $"/v2/{Reference.Repository}/{path}");

    /// <summary>The URL of a manifest: a tag or a digest, nothing that could reshape the path (a digest or tag from a
    /// registry's answer).</summary>
    private Uri ManifestUri(string reference) =>
        TagOrDigest().IsMatch(reference)
            ? Api($"manifests/{reference}")
            : throw new InvalidContentException(Describe("manifests"), $"'{reference}' is neither a tag nor a digest");

    /// <summary>Where an object is, as a user can read it.</summary>
    public string Describe(string path) => $"{Reference}/{path}";

    /// <summary>
    /// False when the registry says the repository does not exist (404, NAME_UNKNOWN: nothing was ever pushed to it);
    /// true when it lists its tags, even none.
    /// </summary>
    public async Task<bool> RepositoryExistsAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Api("tags/list?n=1"));
        using var response = await SendFoundAsync(request, cancellationToken).ConfigureAwait(false);
        return response is not null;
    }

    /// <summary>GETs a manifest by tag or digest; null when there is none. The bytes are checked against the
    /// digest.</summary>
    public async Task<OciManifestBytes?> GetManifestAsync(string reference,
        CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ManifestUri(reference));
        request.Headers.Accept.ParseAdd(ManifestAccept);
        using var response = await SendFoundAsync(request, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return null;
        }
        var bytes = await HttpBodies.ReadAsync(response, Describe($"manifests/{reference}"), HttpBodies.ManifestLimit,
            cancellationToken).ConfigureAwait(false);

        var digest = Digest(bytes);
        var claimed = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault()
            : null;
        if ((reference.StartsWith("sha256:", StringComparison.Ordinal) && reference != digest)
            || (claimed is not null && claimed != digest))
        {
            throw new InvalidContentException(Describe($"manifests/{reference}"),
                $"manifest bytes hash to {digest}, not {(claimed ?? reference)}");
        }

        return new OciManifestBytes(bytes, digest,
            response.Content.Headers.ContentType?.MediaType ?? MediaTypeOf(bytes));
    }

    /// <summary>HEADs a manifest: its digest and size, or null when there is none.</summary>
    public async Task<(string Digest, long Size)?> HeadManifestAsync(string reference,
        CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, ManifestUri(reference));
        request.Headers.Accept.ParseAdd(ManifestAccept);
        using var response = await SendFoundAsync(request, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return null;
        }
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : null;
        if (digest is null)
        {
            // Some registries answer HEAD without the digest: read it.
            return await GetManifestAsync(reference, cancellationToken).ConfigureAwait(false) is { } m
                ? (m.Digest, m.Bytes.LongLength) : null;
        }

        return (digest, response.Content.Headers.ContentLength ?? -1);
    }

    /// <summary>PUTs a manifest under a tag (or its digest). Returns its digest and whether the registry processed a
    /// <c>subject</c>.</summary>
    public async Task<(string Digest, bool SubjectAccepted)> PutManifestAsync(string reference, byte[] manifest,
        CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, ManifestUri(reference))
        {
            Content = new ByteArrayContent(manifest),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypeOf(manifest));
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var digest = Digest(manifest);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && values.First() != digest)
        {
            throw new InvalidContentException(Describe($"manifests/{reference}"),
                $"registry stored the manifest as {values.First()}, not {digest}");
        }

        return (digest, response.Headers.Contains("OCI-Subject"));
    }

    /// <summary>Deletes a manifest by digest (and so every tag on it). False when there was none.</summary>
    public async Task<bool> DeleteManifestAsync(string digest, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, ManifestUri(digest));
        using var response = await SendFoundAsync(request, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return false;
        }
        return true;
    }

    /// <summary>
    /// Every tag of the repository (none when it does not exist yet), following <c>Link</c> pages on the registry's own
    /// origin only, each page URL once, at most <see cref="OciClientOptions.MaxTagPages"/> pages.
    /// </summary>
    /// <exception cref="InvalidContentException">A page is malformed or too large, or the links leave the registry,
    /// loop or never end.</exception>
    public async IAsyncEnumerable<string> ListTagsAsync([EnumeratorCancellation] CancellationToken cancellationToken =
        default)
    {
        Uri? next = Api("tags/list?n=1000");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (next is not null)
        {
            if (!seen.Add(next.AbsoluteUri))
            {
                throw new InvalidContentException(Describe("tags/list"),
                    $"the next-page Link repeats {next.PathAndQuery}: the tag list never ends");
            }

            if (seen.Count > options.MaxTagPages)
            {
                throw new InvalidContentException(Describe("tags/list"),
                    $"more than {options.MaxTagPages} pages of tags; stopped");
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            using var response = await SendFoundAsync(request, cancellationToken).ConfigureAwait(false);
            if (response is null)
            {
                yield break; // NAME_UNKNOWN: nothing pushed yet
            }
            var body = await HttpBodies.ReadAsync(response, Describe("tags/list"), HttpBodies.TagPageLimit,
                cancellationToken).ConfigureAwait(false);
            List<string> tags;
            try
            {
                using var doc = JsonDocument.Parse(body);
                tags = doc.RootElement.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Array
                    ? t.EnumerateArray().Select(e => e.GetString() ?? "").ToList()
                    : [];
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new InvalidContentException(Describe("tags/list"), "malformed JSON: " + e.Message);
            }

            foreach (var tag in tags)
            {
                yield return tag;
            }

            next = NextPage(response, next);
            if (next is not null && !HttpBodies.SameOrigin(next, Reference.BaseUri))
            {
                // Credentials and tokens are bound to the registry; a page elsewhere (or over plain http) is not
                // followed.
                throw new InvalidContentException(Describe("tags/list"),
                    $"the next-page Link points to {next.GetLeftPart(UriPartial.Authority)}, not the registry "
                    + $"{Reference.BaseUri.GetLeftPart(UriPartial.Authority)}; not followed");
            }
        }
    }

    /// <summary>
    /// Manifests that name <paramref name="digest"/> as their subject (OCI 1.1 referrers API), or null when the
    /// registry does not offer the API (then clients use the tag schema).
    /// </summary>
    public async Task<IReadOnlyList<OciDescriptor>?> ReferrersAsync(string digest, string? artifactType,
        CancellationToken cancellationToken = default)
    {
        if (noReferrersApi)
        {
            return null; // asked once already: verifying many images must not ask again for each
        }

        var query = artifactType is null ? "" : "?artifactType=" + Uri.EscapeDataString(artifactType);
        if (!TagOrDigest().IsMatch(digest) || !digest.Contains(':', StringComparison.Ordinal))
        {
            throw new InvalidContentException(Describe("referrers"), $"'{digest}' is not a digest");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, Api($"referrers/{digest}{query}"));
        request.Headers.Accept.ParseAdd(OciMediaTypes.ImageIndex);
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode
                is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.BadRequest
            || response.Content.Headers.ContentType?.MediaType != OciMediaTypes.ImageIndex)
        {
            // A registry with the API answers an (empty) index for any digest; anything else means it has none.
            noReferrersApi = true;
            return null;
        }

        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var bytes = await HttpBodies.ReadAsync(response, Describe($"referrers/{digest}"), HttpBodies.ManifestLimit,
            cancellationToken).ConfigureAwait(false);
        return OciImageManifest.ParseIndex(bytes, Describe($"referrers/{digest}"))
            .Where(d => artifactType is null || d.ArtifactType == artifactType).ToList();
    }

    public static string Digest(ReadOnlySpan<byte> bytes) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Sends a request; the body is left unread (every read is capped by its caller).</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            var tls = e.InnerException is System.Security.Authentication.AuthenticationException;
            throw new DepotException(tls ? ErrorKind.Trust : ErrorKind.IO,
                $"{request.Method} {request.RequestUri?.GetLeftPart(UriPartial.Path)}: cannot reach registry "
                + $"{Reference.Registry}: "
                + (tls ? "its TLS certificate is not trusted" : e.Message), e,
                    tls ? ErrorHint.TrustCertificate(Reference.Registry) : null);
        }
    }

    /// <summary>Sends a request: null when the registry answers 404, the response when it succeeds, else
    /// <see cref="OciRegistryException"/>.</summary>
    private async Task<HttpResponseMessage?> SendFoundAsync(HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }

        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return response;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await HttpBodies.ReadErrorTextAsync(response, cancellationToken).ConfigureAwait(false);
            var request = response.RequestMessage!;
            var note = HttpBodies.RetryAfterNote(response);
            response.Dispose();
            throw new OciRegistryException(request.Method, request.RequestUri!, response.StatusCode, body, note);
        }
    }

    private Uri Location(HttpResponseMessage response) =>
        response.Headers.Location is { } location
            ? location.IsAbsoluteUri ? location : new Uri(Reference.BaseUri, location)
            : throw new OciRegistryException(response.RequestMessage!.Method, response.RequestMessage.RequestUri!,
                response.StatusCode, "upload session without a Location");

    private static Uri WithDigest(Uri location, string digest) =>
        new(location + (location.Query.Length > 0 ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest));

    internal static Uri? NextPage(HttpResponseMessage response, Uri current)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links)
        {
            var open = link.IndexOf('<', StringComparison.Ordinal);
            var close = link.IndexOf('>', StringComparison.Ordinal);
            if (open >= 0 && close > open && link.Contains("rel=\"next\"", StringComparison.Ordinal))
            {
                var target = link[(open + 1)..close];
                // On Unix "/v2/..." parses as an absolute file: URI, so only http(s) links count as absolute.
                return Uri.TryCreate(target, UriKind.Absolute, out var absolute)
                    && (absolute.Scheme == Uri.UriSchemeHttp || absolute.Scheme == Uri.UriSchemeHttps)
                    ? absolute
                    : new Uri(new Uri(current.GetLeftPart(UriPartial.Authority)), target);
            }
        }

        return null;
    }

    private static string MediaTypeOf(byte[] manifest)
    {
        try
        {
            using var doc = JsonDocument.Parse(manifest);
            return doc.RootElement.TryGetProperty("mediaType", out var m) && m.GetString() is { Length: > 0 } type
                ? type : OciMediaTypes.ImageManifest;
        }
        catch (JsonException)
        {
            return OciMediaTypes.ImageManifest;
        }
    }

    private static X509Certificate2 LoadCertificate(string file)
    {
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(file);
        }
        catch (Exception e) when (e is CryptographicException or IOException)
        {
            throw new DepotException($"{file}: not a readable CA certificate (PEM or DER): {e.Message}");
        }
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public void Dispose() => http.Dispose();

    // A tag (the distribution spec's grammar) or a digest (algorithm:encoded).
    [GeneratedRegex("^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|[a-z0-9]+([+._-][a-z0-9]+)*:[A-Za-z0-9=_-]+)$")]
    private static partial Regex TagOrDigest();
}
