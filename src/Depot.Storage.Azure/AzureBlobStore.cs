using System.Runtime.CompilerServices;
using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Depot.Storage.Azure;

/// <summary>
/// Azure Blob Storage: <c>azure://account/container/prefix</c> or
/// <c>https://account.blob.core.windows.net/container/prefix</c>. Credentials: a connection string (its endpoint then
/// wins, which is how Azurite is reached), a SAS token, else DefaultAzureCredential (which reads its own settings).
/// The provider takes the first two from the host's environment. Block-blob uploads commit at once, so readers never
/// see half an object.
/// </summary>
public sealed class AzureBlobStore : IObjectStore
{
    private readonly BlobContainerClient container;
    private readonly string prefix;
    private readonly string display;
    private readonly string credentialSource;

    public AzureBlobStore(string account, string containerName, string prefix, string? connectionString = null,
        string? sasToken = null)
    {
        this.prefix = prefix.Trim('/').Length == 0 ? "" : prefix.Trim('/') + "/";
        // Throttling (503/500) and transient errors: exponential backoff with jitter, bounded per try and overall.
        var options = new BlobClientOptions();
        options.Retry.Mode = global::Azure.Core.RetryMode.Exponential;
        options.Retry.MaxRetries = 5;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(30);
        options.Retry.NetworkTimeout = TimeSpan.FromMinutes(5);
        if (!string.IsNullOrEmpty(connectionString))
        {
            try
            {
                container = new BlobContainerClient(connectionString, containerName, options);
            }
            catch (FormatException e)
            {
                // The SDK's own message names what is missing, never the string (which holds the key): neither do we.
                throw new DepotException(ErrorKind.Usage,
                    $"azure://{account}/{containerName}: the Azure connection string is malformed: {e.Message}", e);
            }

            credentialSource = $"the connection string's key of account {container.AccountName}";
        }
        else
        {
            var uri = new Uri($"https://{account}.blob.core.windows.net/{containerName}");
            credentialSource = !string.IsNullOrEmpty(sasToken) ? "the SAS token" : "DefaultAzureCredential";
            container = !string.IsNullOrEmpty(sasToken)
                ? new BlobContainerClient(new UriBuilder(uri) { Query = sasToken.TrimStart('?') }.Uri, options)
                : new BlobContainerClient(uri, new DefaultAzureCredential(), options);
        }

        display = $"azure://{account}/{containerName}";
        Root = (display + "/" + this.prefix).TrimEnd('/');
    }

    public string Root { get; }

    public string Describe(string key) => $"{display}/{prefix}{key}";

    public async IAsyncEnumerable<StoreObject> ListAsync(string prefix,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var pages = container.GetBlobsAsync(new GetBlobsOptions { Prefix = this.prefix + prefix }, cancellationToken)
            .ConfigureAwait(false);
        await using var items = pages.GetAsyncEnumerator();
        while (true)
        {
            try
            {
                if (!await items.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                yield break; // no container yet: nothing under any prefix
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                throw Failure(e, Describe(prefix));
            }

            var blob = items.Current;
            yield return new StoreObject(blob.Name[this.prefix.Length..], blob.Properties.ContentLength ?? 0,
                blob.Properties.LastModified);
        }
    }

    public async Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            var properties = await Blob(key).GetPropertiesAsync(cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return new StoreObject(key, properties.Value.ContentLength, properties.Value.LastModified,
                properties.Value.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw Failure(e, Describe(key));
        }
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            var download = await Blob(key).DownloadStreamingAsync(cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return download.Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new StoreObjectNotFoundException(Describe(key));
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw Failure(e, Describe(key));
        }
    }

    /// <summary>A download of an <see cref="HttpRange"/>: Azure sends only those bytes. A range starting at or past
    /// the end is refused (416); the blob's size then says whether that is an empty range or a wrong one.</summary>
    public async Task<Stream> OpenReadRangeAsync(string key, long offset, long? length,
        CancellationToken cancellationToken = default)
    {
        StoreRange.CheckArguments(offset, length);
        if (length == 0)
        {
            return await StoreRange.ResolveEmptyAsync(this, key, offset, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var download = await Blob(key).DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new global::Azure.HttpRange(offset, length) }, cancellationToken)
                .ConfigureAwait(false);
            return download.Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new StoreObjectNotFoundException(Describe(key));
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            return await StoreRange.ResolveEmptyAsync(this, key, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw Failure(e, Describe(key));
        }
    }

    public async Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        var blob = Blob(key);
        try
        {
            await blob.UploadAsync(content, overwrite: true, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (content.CanSeek)
            {
                content.Position = 0;
            }

            await blob.UploadAsync(content, overwrite: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw Failure(e, Describe(key));
        }
    }

    /// <summary>Azure Blob (and Azurite) enforce <c>If-Match</c>/<c>If-None-Match</c> on the upload itself.</summary>
    public bool ConditionalWritesAreAtomic => true;

    /// <summary>Azure conditional writes: the ETag is compared first (a stale writer uploads nothing), then the upload
    /// carries <c>If-Match</c> the ETag read, or <c>If-None-Match: *</c> for a new blob.</summary>
    public async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
        CancellationToken cancellationToken = default)
    {
        if ((await GetInfoAsync(key, cancellationToken).ConfigureAwait(false))?.Version != expectedVersion)
        {
            return false;
        }

        var conditions = expectedVersion is null ? new BlobRequestConditions { IfNoneMatch = ETag.All }
            : new BlobRequestConditions { IfMatch = new ETag(expectedVersion) };
        try
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await Blob(key).UploadAsync(content, new BlobUploadOptions { Conditions = conditions }, cancellationToken)
                .ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 409)
        {
            return false;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw Failure(e, Describe(key));
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            return (await Blob(key).DeleteIfExistsAsync(cancellationToken: cancellationToken)
                .ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw Failure(e, Describe(key));
        }
    }

    private BlobClient Blob(string key) => container.GetBlobClient(prefix + StoreKeys.Check(key, Root));

    private static string FirstSentence(string message)
    {
        var line = message.Split('\n')[0];
        var end = line.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? line.TrimEnd('.') : line[..end];
    }

    private DepotException Failure(Exception e, string location) => e switch
    {
        AuthenticationFailedException a =>
            new DepotException(ErrorKind.Authentication,
                $"{location}: no Azure credentials found: no connection string (the mirror's "
                + "azure_connection_string_variable, AZURE_STORAGE_CONNECTION_STRING), no AZURE_STORAGE_SAS_TOKEN, "
                + "and DefaultAzureCredential found none (AZURE_CLIENT_* variables, workload and managed identity, "
                + $"Azure CLI sign-in: {FirstSentence(a.Message)}); set AZURE_STORAGE_CONNECTION_STRING or name a "
                + "variable holding one in the mirror's azure_connection_string_variable, or sign in with 'az login'",
                e),
        // Nothing answered (connection refused, no route, DNS): after the SDK's retries, one AggregateException of
        // them; a single transport failure is a RequestFailedException with status 0.
        AggregateException { InnerException: RequestFailedException { Status: 0 } r } =>
            Unreachable(r, location, e),
        RequestFailedException { Status: 0 } r => Unreachable(r, location, e),
        RequestFailedException { Status: 403 } r =>
            new DepotException(ErrorKind.Authentication,
                $"{location}: access denied ({r.ErrorCode}) for {credentialSource}: check the connection string, SAS "
                + "token or role assignment", e),
        RequestFailedException r =>
            new DepotException(ErrorKind.IO,
                $"{location}: {r.ErrorCode ?? r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)}: "
                + $"{r.Message.Split('\n')[0]}", e),
        _ => new DepotException(ErrorKind.IO, $"{location}: {e.Message}", e),
    };

    private DepotException Unreachable(RequestFailedException e, string location, Exception cause) =>
        new(ErrorKind.IO, $"{location}: cannot reach {container.Uri.GetLeftPart(UriPartial.Authority)}: "
            + e.Message.Split('\n')[0], cause);

    private static bool IsStoreFailure(Exception e) => e is RequestFailedException or AuthenticationFailedException
        or AggregateException { InnerException: RequestFailedException };
}
