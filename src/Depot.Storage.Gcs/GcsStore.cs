using System.Net;
using System.Runtime.CompilerServices;
using Google;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Cloud.Storage.V1;

namespace Depot.Storage.Gcs;

/// <summary>
/// <c>gs://bucket/prefix</c> through Google.Cloud.Storage.V1. Credentials: an explicit key file (mirror config), else
/// Application Default Credentials — <c>GOOGLE_APPLICATION_CREDENTIALS</c> (service-account key or external-account
/// file), gcloud's user ADC file (<c>CLOUDSDK_CONFIG</c>, else <c>~/.config/gcloud</c>), the metadata server
/// (<c>GCE_METADATA_HOST</c>, else Google's). When none works the error names each source and why.
/// <c>STORAGE_EMULATOR_HOST</c> points it at an emulator (no credentials), as Google's own clients do. Every variable
/// is read from the environment given (the host's), never from the process. Uploads are resumable and an object
/// appears only when its upload is finalised.
/// </summary>
public sealed class GcsStore : IObjectStore
{
    private readonly Lazy<Task<(StorageClient Client, string Credentials)>> client;
    private readonly string bucket;
    private readonly string server;
    private readonly string prefix;

    /// <remarks>
    /// <c>endpoint</c> sends requests elsewhere than Google (a private endpoint, a test server) with the same
    /// credentials: a base URL (<c>/storage/v1/</c> is added unless it names it); <c>anonymous</c> sends none
    /// (emulators: what <c>STORAGE_EMULATOR_HOST</c> selects).
    /// </remarks>
    public GcsStore(string bucket, string prefix, string? keyFile = null, string? endpoint = null,
        bool anonymous = false, EnvironmentVariables? environment = null)
    {
        this.bucket = bucket;
        this.prefix = prefix.Trim('/').Length == 0 ? "" : prefix.Trim('/') + "/";
        environment ??= EnvironmentVariables.Empty;
        if (endpoint is null && environment["STORAGE_EMULATOR_HOST"] is { } host)
        {
            endpoint = host.Contains("://", StringComparison.Ordinal) ? host : "http://" + host;
            anonymous = true;
        }

        endpoint = endpoint is null ? null : ApiBase(endpoint);
        server = endpoint ?? "https://storage.googleapis.com/";
        client = new Lazy<Task<(StorageClient, string)>>(() => CreateAsync(keyFile, endpoint, anonymous, environment));
        Root = $"gs://{bucket}/{this.prefix}".TrimEnd('/');
    }

    public string Root { get; }

    public string Describe(string key) => $"gs://{bucket}/{prefix}{key}";

    public async IAsyncEnumerable<StoreObject> ListAsync(string prefix,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var storage = await Client(Describe(prefix)).ConfigureAwait(false);
        var objects = storage.ListObjectsAsync(bucket, this.prefix + prefix).WithCancellation(cancellationToken)
            .ConfigureAwait(false);
        await using var items = objects.GetAsyncEnumerator();
        while (true)
        {
            try
            {
                if (!await items.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (Exception e) when (Failure(e, Describe(prefix)) is { } failure)
            {
                throw failure;
            }

            var o = items.Current;
            yield return new StoreObject(o.Name[this.prefix.Length..], (long)(o.Size ?? 0), o.UpdatedDateTimeOffset);
        }
    }

    public async Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        var storage = await Client(Describe(key)).ConfigureAwait(false);
        try
        {
            var o = await storage.GetObjectAsync(bucket, Key(key), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return new StoreObject(key, (long)(o.Size ?? 0), o.UpdatedDateTimeOffset,
                o.Generation?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (Failure(e, Describe(key)) is { } failure)
        {
            throw failure;
        }
    }

    // The client downloads into a stream it is given: a temporary file keeps memory flat for large tarballs.
    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var storage = await Client(Describe(key)).ConfigureAwait(false);
        var temp = PrivateTemp.CreateFile("depot-gcs");
        try
        {
            await storage.DownloadObjectAsync(bucket, Key(key), temp, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            temp.Position = 0;
            return temp;
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
            await temp.DisposeAsync().ConfigureAwait(false);
            throw new StoreObjectNotFoundException(Describe(key));
        }
        catch (Exception e) when (Failure(e, Describe(key)) is { } failure)
        {
            await temp.DisposeAsync().ConfigureAwait(false);
            throw failure;
        }
    }

    /// <summary>
    /// A download of a byte range (<see cref="DownloadObjectOptions.Range"/>): only those bytes cross the network, and
    /// they are read as they arrive (<see cref="PipedDownload"/>). A range starting at or past the end is refused
    /// (416); the object's size then says whether that is an empty range or a wrong one.
    /// </summary>
    public async Task<Stream> OpenReadRangeAsync(string key, long offset, long? length,
        CancellationToken cancellationToken = default)
    {
        StoreRange.CheckArguments(offset, length);
        if (length == 0)
        {
            return await StoreRange.ResolveEmptyAsync(this, key, offset, cancellationToken).ConfigureAwait(false);
        }

        var storage = await Client(Describe(key)).ConfigureAwait(false);
        var options = new DownloadObjectOptions
        {
            Range = new System.Net.Http.Headers.RangeHeaderValue(offset, offset + length - 1),
            // One request still; the client fills a buffer this big before writing any of it (10 MiB by default).
            ChunkSize = 128 << 10,
        };
        try
        {
            return await PipedDownload.StartAsync(
                (sink, token) => storage.DownloadObjectAsync(bucket, Key(key), sink, options, token),
                e => e is GoogleApiException { HttpStatusCode: HttpStatusCode.RequestedRangeNotSatisfiable } ? null
                    : e is GoogleApiException { HttpStatusCode: HttpStatusCode.NotFound }
                        ? new StoreObjectNotFoundException(Describe(key))
                        : Failure(e, Describe(key)),
                cancellationToken).ConfigureAwait(false);
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return await StoreRange.ResolveEmptyAsync(this, key, offset, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var storage = await Client(Describe(key)).ConfigureAwait(false);
        try
        {
            await storage.UploadObjectAsync(bucket, Key(key), "application/octet-stream", content,
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Failure(e, Describe(key)) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>GCS enforces generation preconditions in the same request as the write.</summary>
    public bool ConditionalWritesAreAtomic => true;

    /// <summary>GCS conditional writes: the generation is compared first (a stale writer uploads nothing), then the
    /// upload carries <c>ifGenerationMatch</c> the generation read, or 0 for a new object.</summary>
    public async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        if ((await GetInfoAsync(key, cancellationToken).ConfigureAwait(false))?.Version != expectedVersion)
        {
            return false;
        }

        var storage = await Client(Describe(key)).ConfigureAwait(false);
        var options = new UploadObjectOptions
        {
            IfGenerationMatch = expectedVersion is null ? 0
                : long.Parse(expectedVersion, System.Globalization.CultureInfo.InvariantCulture),
        };
        try
        {
            await storage.UploadObjectAsync(bucket, Key(key), "application/octet-stream", content, options,
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.PreconditionFailed)
        {
            return false;
        }
        catch (Exception e) when (Failure(e, Describe(key)) is { } failure)
        {
            throw failure;
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var storage = await Client(Describe(key)).ConfigureAwait(false);
        try
        {
            await storage.DeleteObjectAsync(bucket, Key(key), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return true;
        }
        catch (GoogleApiException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        catch (Exception e) when (Failure(e, Describe(key)) is { } failure)
        {
            throw failure;
        }
    }

    private string Key(string key) => prefix + StoreKeys.Check(key, Root);

    private async Task<StorageClient> Client(string location)
    {
        try
        {
            return (await client.Value.ConfigureAwait(false)).Client;
        }
        catch (InvalidOperationException e)
        {
            throw new DepotException(ErrorKind.Authentication, $"{location}: no Google credentials: {e.Message}; "
                + "give the mirror a gcs_key_file, set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, "
                + "or run 'gcloud auth application-default login'", e);
        }
    }

    // The JSON API's base: an endpoint given as a host (https://storage.example.com) gets /storage/v1/.
    private static string ApiBase(string endpoint)
    {
        var trimmed = endpoint.TrimEnd('/');
        return (trimmed.EndsWith("/storage/v1", StringComparison.Ordinal) ? trimmed : trimmed + "/storage/v1") + "/";
    }

    // The client, and where its credentials came from (a key file's path, an ADC source, the metadata server): what
    // an access-denied error names. Never the key itself.
    private static async Task<(StorageClient, string)> CreateAsync(string? keyFile, string? endpoint, bool anonymous,
        EnvironmentVariables environment)
    {
        if (anonymous)
        {
            return (await new StorageClientBuilder { BaseUri = endpoint, UnauthenticatedAccess = true }.BuildAsync()
                .ConfigureAwait(false), "no credentials (anonymous)");
        }

        var (credential, source) = keyFile is not null
            ? (FromFile(keyFile, "the mirror configuration")
                ?? throw new InvalidOperationException($"key file {keyFile} (from the mirror configuration) does not "
                    + "exist"), $"key file {keyFile} (from the mirror configuration)")
            : await ApplicationDefaultAsync(environment).ConfigureAwait(false);
        return (await new StorageClientBuilder
        {
            BaseUri = endpoint,
            Credential = credential.CreateScoped("https://www.googleapis.com/auth/devstorage.read_write"),
        }
            .BuildAsync().ConfigureAwait(false), source);
    }

    // Application Default Credentials, walked here rather than by the library (which caches its answer for the
    // process and says little): each source in Google's order, and why each one was passed over.
    private static async Task<(GoogleCredential, string)> ApplicationDefaultAsync(EnvironmentVariables environment)
    {
        var tried = new List<string>();
        var env = environment["GOOGLE_APPLICATION_CREDENTIALS"];
        if (string.IsNullOrEmpty(env))
        {
            tried.Add("GOOGLE_APPLICATION_CREDENTIALS is not set");
        }
        else
        {
            try
            {
                return (FromFile(env, "GOOGLE_APPLICATION_CREDENTIALS")
                    ?? throw new InvalidOperationException($"GOOGLE_APPLICATION_CREDENTIALS names {env}, which does "
                        + "not exist"), $"key file {env} (from GOOGLE_APPLICATION_CREDENTIALS)");
            }
            catch (InvalidOperationException e)
            {
                tried.Add(e.Message);
            }
        }

        var gcloudFolder = environment["CLOUDSDK_CONFIG"]
            ?? (environment.UserHome is { } home ? Path.Combine(home, ".config", "gcloud") : null);
        var gcloud = gcloudFolder is null ? null : Path.Combine(gcloudFolder, "application_default_credentials.json");
        try
        {
            return ((gcloud is null ? null : FromFile(gcloud, "gcloud"))
                ?? throw new InvalidOperationException($"gcloud ADC file {gcloud ?? "(no HOME)"} does not exist (run: "
                    + "gcloud auth application-default login)"), $"gcloud ADC file {gcloud}");
        }
        catch (InvalidOperationException e)
        {
            tried.Add(e.Message);
        }

        var metadata = "http://" + (environment["GCE_METADATA_HOST"] ?? "169.254.169.254") + "/computeMetadata/v1/";
        if (await MetadataServerAnswersAsync(metadata).ConfigureAwait(false))
        {
            return (new ComputeCredential(new ComputeCredential.Initializer(
                metadata + "instance/service-accounts/default/token")).ToGoogleCredential(),
                $"metadata server {metadata}");
        }

        tried.Add($"metadata server {metadata}: not reachable (not on Google Cloud)");
        throw new InvalidOperationException(string.Join("; ", tried));
    }

    // Google's check for Compute Engine: the metadata server answers with its flavour header, quickly.
    private static async Task<bool> MetadataServerAnswersAsync(string metadata)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var request = new HttpRequestMessage(HttpMethod.Get, metadata);
        request.Headers.Add("Metadata-Flavor", "Google");
        try
        {
            using var response = await http.SendAsync(request).ConfigureAwait(false);
            return response.Headers.TryGetValues("Metadata-Flavor", out var flavour) && flavour.Contains("Google");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    // A credential file of any kind gcloud and Google's tools write; null when the file does not exist.
    private static GoogleCredential? FromFile(string path, string source)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(path));
            var type = json.RootElement.TryGetProperty("type", out var t) ? t.GetString() : null;
            return type switch
            {
                "service_account" => CredentialFactory.FromFile<ServiceAccountCredential>(path).ToGoogleCredential(),
                "authorized_user" => CredentialFactory.FromFile<UserCredential>(path).ToGoogleCredential(),
                // External-account files are what workload identity federation writes; no typed factory covers
                // all their kinds.
#pragma warning disable CS0618
                "external_account" => GoogleCredential.FromFile(path),
#pragma warning restore CS0618
                _ => throw new InvalidOperationException($"{source}: {path} is a credential file of unknown type "
                    + $"'{type}'"),
            };
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException
            or ArgumentException or IOException)
        {
            throw new InvalidOperationException(e is InvalidOperationException
                && e.Message.StartsWith(source, StringComparison.Ordinal)
                ? e.Message : $"{source}: {path} could not be used: {e.Message.Split('\n')[0]}", e);
        }
    }

    // A failed request as a DepotException naming the object and, for refused credentials, where they came from
    // (never the key); null for what is not a store failure (cancellation), which then propagates as it is.
    private DepotException? Failure(Exception e, string location) => e switch
    {
        GoogleApiException { HttpStatusCode: HttpStatusCode.Unauthorized } api =>
            new DepotException(ErrorKind.Authentication,
                $"{location}: credentials refused (401) from {Credentials()}: {ServerMessage(api)}", e),
        GoogleApiException { HttpStatusCode: HttpStatusCode.Forbidden } api =>
            new DepotException(ErrorKind.Authentication,
                $"{location}: access denied (403) to {Credentials()}: {ServerMessage(api)} "
                + "(roles/storage.objectAdmin to push, objectViewer to read)", e),
        GoogleApiException api => new DepotException(ErrorKind.IO,
            $"{location}: {(int)api.HttpStatusCode} {ServerMessage(api)}", e),
        TokenResponseException token => new DepotException(ErrorKind.Authentication,
            $"{location}: no token for {Credentials()}: {token.Error?.Error} {token.Error?.ErrorDescription}".Trim(),
            e),
        HttpRequestException http => new DepotException(ErrorKind.IO,
            $"{location}: cannot reach {server}: {http.Message}", e),
        _ => null,
    };

    private static string ServerMessage(GoogleApiException e) => e.Error?.Message ?? e.Message.Split('\n')[0];

    // Where the credentials came from; only asked once the client exists (a request failed with them).
    private string Credentials() => client.IsValueCreated && client.Value.IsCompletedSuccessfully
        ? client.Value.Result.Credentials : "the credentials";
}
