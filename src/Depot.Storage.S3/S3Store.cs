using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.S3;
using Amazon.S3.Model;

namespace Depot.Storage.S3;

/// <summary>How to reach an S3 bucket: Spack's mirror settings, all optional (the SDK's default chain
/// otherwise).</summary>
/// <param name="EndpointUrl">S3-compatible service (path-style addressing); else <c>AWS_ENDPOINT_URL_S3</c> /
/// <c>AWS_ENDPOINT_URL</c>.</param>
/// <param name="AccessKeyId">With <paramref name="SecretAccessKey"/>: Spack's <c>access_pair</c>.</param>
/// <param name="SecretAccessKey">The secret half of <c>access_pair</c>.</param>
/// <param name="SessionToken">Spack's <c>access_token</c>.</param>
/// <param name="Profile">A profile of the AWS shared config files.</param>
/// <param name="Region">Bucket region (else <c>AWS_REGION</c>, else the SDK's: profile).</param>
/// <param name="ConditionalWritesAreAtomic">Whether the service enforces <c>If-Match</c>/<c>If-None-Match</c> on
/// PUT (see <see cref="IStoreWriter.ConditionalWritesAreAtomic"/>); null: true for AWS S3 itself, false for an
/// S3-compatible endpoint, which may ignore them as s3rver does.</param>
/// <param name="Environment">Where <c>AWS_ENDPOINT_URL_S3</c>, <c>AWS_ENDPOINT_URL</c>, <c>AWS_REGION</c>,
/// <c>AWS_ACCESS_KEY_ID</c> / <c>AWS_SECRET_ACCESS_KEY</c> / <c>AWS_SESSION_TOKEN</c> and <c>AWS_PROFILE</c> are read
/// (the host's; none by default). Without any of these the SDK's default chain applies.</param>
public sealed record S3StoreOptions(string? EndpointUrl = null, string? AccessKeyId = null,
    string? SecretAccessKey = null, string? SessionToken = null, string? Profile = null, string? Region = null,
    bool? ConditionalWritesAreAtomic = null, EnvironmentVariables? Environment = null);

/// <summary>
/// <c>s3://bucket/prefix</c> through AWSSDK.S3. Bodies are sent without <c>aws-chunked</c> framing, which several
/// S3-compatible services (s3rver among them) would store inside the object; large objects go up in parts. PUT is
/// atomic in S3, so readers see the old object or the new one.
/// </summary>
public sealed class S3Store : IObjectStore, IDisposable
{
    private const long PartSize = 16L << 20;
    private readonly AmazonS3Client client;
    private readonly string bucket;
    private readonly string prefix;
    private readonly string credentialSource;
    private readonly string? endpointShown;

    public S3Store(string bucket, string prefix, S3StoreOptions? options = null)
    {
        options ??= new S3StoreOptions();
        var environment = options.Environment ?? EnvironmentVariables.Empty;
        var fromEnvironment = options.AccessKeyId is null && options.Profile is null;
        options = options with
        {
            AccessKeyId = options.AccessKeyId ?? (fromEnvironment ? environment["AWS_ACCESS_KEY_ID"] : null),
            SecretAccessKey = options.SecretAccessKey
                ?? (fromEnvironment ? environment["AWS_SECRET_ACCESS_KEY"] : null),
            SessionToken = options.SessionToken ?? (fromEnvironment ? environment["AWS_SESSION_TOKEN"] : null),
            Profile = options.Profile
                ?? (fromEnvironment && environment["AWS_ACCESS_KEY_ID"] is null ? environment["AWS_PROFILE"] : null),
            Region = options.Region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"],
        };
        this.bucket = bucket;
        this.prefix = prefix.Trim('/').Length == 0 ? "" : prefix.Trim('/') + "/";
        var endpoint = options.EndpointUrl ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"];
        var config = new AmazonS3Config
        {
            // Only what must be: checksums on request bodies make the SDK use aws-chunked framing.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,

            // Throttling and transient errors: the SDK's standard mode retries with exponential backoff and jitter.
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = 5,
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (!string.IsNullOrEmpty(endpoint))
        {
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
        }
        else if (options.Region is { } region)
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        var credentials = Credentials(options);
        credentialSource = options.AccessKeyId is { Length: > 0 } keyId && credentials is not null
            ? $"access key id {keyId} (the mirror's access_pair)"
            : options.Profile is { Length: > 0 } named ? $"AWS profile '{named}'"
            : "the AWS SDK's default credentials (AWS_* variables, profiles, instance role)";
        endpointShown = string.IsNullOrEmpty(endpoint) ? null : endpoint;
        try
        {
            client = credentials is not null ? new AmazonS3Client(credentials, config) : new AmazonS3Client(config);
        }
        catch (AmazonClientException) when (string.IsNullOrEmpty(endpoint) && options.Region is null)
        {
            // No region configured anywhere: S3 redirects requests to the bucket's region from us-east-1, as boto3
            // does.
            config.RegionEndpoint = Amazon.RegionEndpoint.USEast1;
            client = credentials is not null ? new AmazonS3Client(credentials, config) : new AmazonS3Client(config);
        }
        Root = $"s3://{bucket}/{this.prefix.TrimEnd('/')}".TrimEnd('/');
        ConditionalWritesAreAtomic = options.ConditionalWritesAreAtomic ?? string.IsNullOrEmpty(endpoint);
    }

    public string Root { get; }

    /// <summary>AWS S3 enforces conditional PUTs; an S3-compatible endpoint is not trusted to (s3rver ignores
    /// them) unless <see cref="S3StoreOptions.ConditionalWritesAreAtomic"/> says so.</summary>
    public bool ConditionalWritesAreAtomic { get; }

    public string Describe(string key) => $"s3://{bucket}/{prefix}{key}";

    public async IAsyncEnumerable<StoreObject> ListAsync(string prefix,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = this.prefix + prefix };
        ListObjectsV2Response response;
        do
        {
            response = await Call(() => client.ListObjectsV2Async(request, cancellationToken), Describe(prefix))
                .ConfigureAwait(false);
            foreach (var o in response.S3Objects ?? [])
            {
                yield return new StoreObject(o.Key[this.prefix.Length..], o.Size ?? 0,
                    o.LastModified is { } t ? new DateTimeOffset(t) : null);
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
    }

    public async Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = Key(key);
        try
        {
            var head = await client.GetObjectMetadataAsync(bucket, path, cancellationToken).ConfigureAwait(false);
            return new StoreObject(key, head.ContentLength, head.LastModified is { } t ? new DateTimeOffset(t) : null,
                head.ETag);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (AmazonServiceException e)
        {
            throw Failure(e, Describe(key));
        }
        catch (AmazonClientException e)
        {
            throw ClientFailure(e, Describe(key));
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e, Describe(key));
        }
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = Key(key);
        try
        {
            var response = await client.GetObjectAsync(bucket, path, cancellationToken).ConfigureAwait(false);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new StoreObjectNotFoundException(Describe(key));
        }
        catch (AmazonServiceException e)
        {
            throw Failure(e, Describe(key));
        }
        catch (AmazonClientException e)
        {
            throw ClientFailure(e, Describe(key));
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e, Describe(key));
        }
    }

    /// <summary>A GET with a byte range: S3 sends only those bytes. A range starting at or past the end is refused
    /// (416 InvalidRange); the object's size then says whether that is an empty range or a wrong one.</summary>
    public async Task<Stream> OpenReadRangeAsync(string key, long offset, long? length,
        CancellationToken cancellationToken = default)
    {
        StoreRange.CheckArguments(offset, length);
        if (length == 0)
        {
            return await StoreRange.ResolveEmptyAsync(this, key, offset, cancellationToken).ConfigureAwait(false);
        }

        var request = new GetObjectRequest
        {
            BucketName = bucket,
            Key = Key(key),
            ByteRange = length is { } n ? new ByteRange(offset, offset + n - 1) : new ByteRange($"bytes={offset}-"),
        };
        try
        {
            var response = await client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new StoreObjectNotFoundException(Describe(key));
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return await StoreRange.ResolveEmptyAsync(this, key, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonServiceException e)
        {
            throw Failure(e, Describe(key));
        }
        catch (AmazonClientException e)
        {
            throw ClientFailure(e, Describe(key));
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e, Describe(key));
        }
    }

    /// <summary>
    /// Reads a small object whole, checked against the length and (for a single-part upload) the MD5 ETag the
    /// response declares: an S3-compatible server that replaces objects in place (s3rver) can serve a torn body while
    /// another writer replaces it, and such a read is made again (up to 5 times).
    /// </summary>
    public async Task<byte[]> ReadAllBytesAsync(string key, long maxBytes,
        CancellationToken cancellationToken = default)
    {
        byte[]? previous = null;
        for (var attempt = 1; ; attempt++)
        {
            byte[] bytes;
            long declared;
            string? etag;
            var path = Key(key);
            try
            {
                using var response = await client.GetObjectAsync(bucket, path, cancellationToken).ConfigureAwait(false);
                (declared, etag) = (response.ContentLength, response.ETag);
                bytes = await ObjectStoreExtensions.ReadBoundedAsync(response.ResponseStream, Describe(key), maxBytes,
                    cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                throw new StoreObjectNotFoundException(Describe(key));
            }
            catch (AmazonServiceException e)
            {
                throw Failure(e, Describe(key));
            }
            catch (Exception e) when (IsTornRead(e))
            {
                // The SDK checks a body against its MD5 ETag: s3rver, replacing the object for another writer at that
                // moment, declares an ETag that does not parse or does not match: a torn read like the ones below.
                if (attempt == 5)
                {
                    throw new DepotException(ErrorKind.IO, $"{Describe(key)}: the server kept answering with an"
                        + " ETag that is no checksum while the object was being replaced", e);
                }

                await Task.Delay(20 * attempt, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (AmazonClientException e)
            {
                throw ClientFailure(e, Describe(key));
            }

            // AWS S3 replaces objects atomically; an ETag that is no MD5 of the body twice in a row (encryption,
            // a server's own scheme) is how that object is, not a torn read.
            if (ConditionalWritesAreAtomic || IsWhole(bytes, declared, etag) || attempt == 5
                || (previous is not null && bytes.AsSpan().SequenceEqual(previous)))
            {
                return bytes;
            }

            previous = bytes;

            await Task.Delay(20 * attempt, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsTornRead(Exception e) =>
        e is ArgumentOutOfRangeException { ParamName: "hex" } or System.Net.Http.HttpIOException
        || (e is AmazonClientException && e.Message.Contains("Expected hash not equal to calculated hash",
            StringComparison.Ordinal));

    private static bool IsWhole(byte[] bytes, long declared, string? etag)
    {
        if (bytes.LongLength != declared)
        {
            return false;
        }

        var md5 = etag?.Trim('"');
#pragma warning disable CA5351 // S3's ETag of a single-part upload is an MD5; compared, not trusted for security
        return md5 is not { Length: 32 } || !md5.All(char.IsAsciiHexDigit)
            || string.Equals(md5, Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(bytes)),
                StringComparison.OrdinalIgnoreCase);
#pragma warning restore CA5351
    }

    public async Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var path = Key(key);
        if (content.CanSeek && content.Length - content.Position <= PartSize)
        {
            await Call(() => client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucket,
                Key = path,
                InputStream = content,
                AutoCloseStream = false,
                UseChunkEncoding = false,
            }, cancellationToken), Describe(key)).ConfigureAwait(false);
            return;
        }

        // Large or unsized: multipart, one part in memory at a time; aborted on failure so nothing partial appears.
        var upload = await Call(() => client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = bucket,
            Key = path,
        }, cancellationToken), Describe(key)).ConfigureAwait(false);
        var parts = new List<PartETag>();
        try
        {
            var buffer = new byte[PartSize];
            for (var number = 1; ; number++)
            {
                var filled = await content.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false,
                    cancellationToken).ConfigureAwait(false);
                if (filled == 0 && number > 1)
                {
                    break;
                }

                var part = await Call(() => client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = bucket,
                    Key = path,
                    UploadId = upload.UploadId,
                    PartNumber = number,
                    PartSize = filled,
                    InputStream = new MemoryStream(buffer, 0, filled, writable: false),
                    UseChunkEncoding = false,
                }, cancellationToken), Describe(key)).ConfigureAwait(false);
                parts.Add(new PartETag(number, part.ETag));
                if (filled < buffer.Length)
                {
                    break;
                }
            }

            await Call(() => client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = bucket,
                Key = path,
                UploadId = upload.UploadId,
                PartETags = parts,
            }, cancellationToken), Describe(key)).ConfigureAwait(false);
        }
        catch
        {
            try
            {
                await client.AbortMultipartUploadAsync(bucket, path, upload.UploadId, CancellationToken.None)
                    .ConfigureAwait(false);
            }
            catch (AmazonServiceException)
            {
                // Best effort: an unfinished upload is invisible to readers and bucket lifecycle rules expire it.
            }

            throw;
        }
    }

    /// <summary>S3 conditional writes: the current ETag is compared first (a stale writer is refused even by a
    /// service that ignores conditions), then the PUT carries <c>If-Match</c> the ETag read, or
    /// <c>If-None-Match: *</c> for a new object, which S3 enforces atomically.</summary>
    public async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        if ((await GetInfoAsync(key, cancellationToken).ConfigureAwait(false))?.Version != expectedVersion)
        {
            return false;
        }

        var request = new PutObjectRequest
        {
            BucketName = bucket,
            Key = Key(key),
            InputStream = content,
            AutoCloseStream = false,
            UseChunkEncoding = false,
        };
        if (expectedVersion is null)
        {
            request.IfNoneMatch = "*";
        }
        else
        {
            request.IfMatch = expectedVersion;
        }

        try
        {
            await client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
        {
            return false;
        }
        catch (AmazonServiceException e)
        {
            throw Failure(e, Describe(key));
        }
        catch (AmazonClientException e)
        {
            throw ClientFailure(e, Describe(key));
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e, Describe(key));
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        if (await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await Call(() => client.DeleteObjectAsync(bucket, Key(key), cancellationToken), Describe(key))
            .ConfigureAwait(false);
        return true;
    }

    public void Dispose() => client.Dispose();

    private string Key(string key) => prefix + StoreKeys.Check(key, Root);

    private static AWSCredentials? Credentials(S3StoreOptions options)
    {
        if (options.AccessKeyId is { Length: > 0 } id && options.SecretAccessKey is { Length: > 0 } secret)
        {
            return options.SessionToken is { Length: > 0 } token ? new SessionAWSCredentials(id, secret, token)
                : new BasicAWSCredentials(id, secret);
        }

        if (options.Profile is { Length: > 0 } profile)
        {
            var chain = new Amazon.Runtime.CredentialManagement.CredentialProfileStoreChain();
            return chain.TryGetAWSCredentials(profile, out var found) ? found
                : throw new DepotException(ErrorKind.Authentication,
                    $"AWS profile '{profile}' not found in the shared config or credentials files");
        }

        return null; // the SDK's default chain: environment, profiles, SSO, container and instance roles
    }

    private async Task<T> Call<T>(Func<Task<T>> call, string location)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AmazonServiceException e)
        {
            throw Failure(e, location);
        }
        catch (AmazonClientException e)
        {
            throw ClientFailure(e, location);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e, location);
        }
    }

    // One line naming the object, and for a refused login the credentials used (never the secret), for an unreachable
    // service its endpoint.
    private DepotException Failure(AmazonServiceException e, string location) => e switch
    {
        AmazonS3Exception { StatusCode: HttpStatusCode.Forbidden } s =>
            new DepotException(ErrorKind.Authentication,
                $"{location}: access denied ({s.ErrorCode}) for {credentialSource}: check the credentials and the "
                + "bucket policy", e),
        AmazonS3Exception { ErrorCode: "NoSuchBucket" } =>
            new DepotException(ErrorKind.NotFound, $"{location}: no such bucket", e),
        _ when e.InnerException is HttpRequestException h => Unreachable(h, location),
        _ => new DepotException(ErrorKind.IO, $"{location}: {e.Message.Split('\n')[0]}", e),
    };

    // What the SDK refuses before any request leaves: no credentials anywhere along its chain (the sources it tried and
    // the settings that would give it some), or a request it could not build.
    private DepotException ClientFailure(AmazonClientException e, string location) =>
        e.Message.StartsWith("Failed to resolve AWS credentials", StringComparison.Ordinal)
            ? new DepotException(ErrorKind.Authentication,
                $"{location}: no AWS credentials found: the mirror names none, and the AWS SDK's default chain "
                + "found none (tried AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, web identity, the profile of "
                + "~/.aws/credentials and ~/.aws/config, container and instance roles); give the mirror an "
                + "access_pair or a profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", e)
            : e.InnerException is HttpRequestException h ? Unreachable(h, location)
            : new DepotException(ErrorKind.IO, $"{location}: {e.Message.Split('\n')[0]}", e);

    private DepotException Unreachable(HttpRequestException e, string location) => new(ErrorKind.IO,
        $"{location}: cannot reach the S3 endpoint {endpointShown ?? "of the bucket's region"}: {e.Message}", e);
}
