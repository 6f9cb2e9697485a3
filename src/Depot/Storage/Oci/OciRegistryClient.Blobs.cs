using System.Net;
using System.Net.Http.Headers;

namespace Depot.Storage.Oci;

/// <summary>Blobs: existence, digest-checked reads, uploads (monolithic or chunked), mounts, deletes.</summary>
public sealed partial class OciRegistryClient
{
    private Uri BlobUri(string digest) =>
        TagOrDigest().IsMatch(digest) && digest.Contains(':', StringComparison.Ordinal)
            ? Api($"blobs/{digest}")
            : throw new InvalidContentException(Describe("blobs"), $"'{digest}' is not a digest");

    /// <summary>Deletes a blob (registries must allow deletes). False when there was none.</summary>
    /// <exception cref="OciRegistryException">The registry refuses deletes (405 UNSUPPORTED).</exception>
    public async Task<bool> DeleteBlobAsync(string digest, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, BlobUri(digest));
        using var response = await SendFoundAsync(request, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return false;
        }
        return true;
    }

    /// <summary>The size of a blob, or null when the repository has none with that digest.</summary>
    public async Task<long?> HeadBlobAsync(string digest, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, BlobUri(digest));
        using var response = await SendFoundAsync(request, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return null;
        }
        return response.Content.Headers.ContentLength ?? -1;
    }

    /// <summary>Opens a blob; the stream throws at its end unless the bytes match <paramref name="digest"/> (and
    /// size).</summary>
    /// <exception cref="StoreObjectNotFoundException">The repository has no such blob.</exception>
    public async Task<Stream> OpenBlobAsync(string digest, long? size = null,
        CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, BlobUri(digest));
        var response = await SendFoundAsync(request, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreObjectNotFoundException(Describe($"blobs/{digest}"));
        request.Dispose();
        var declared = response.Content.Headers.ContentLength;
        if ((size ?? declared) is not { } expected || (size is not null && declared is not null && declared != size))
        {
            // The stream stops at the expected size: without one, a registry could send for ever.
            response.Dispose();
            throw new InvalidContentException(Describe($"blobs/{digest}"), size is null
                ? "the registry sent a blob without a Content-Length, and no descriptor gives its size"
                : $"the registry announces {declared} bytes, the descriptor says {size}");
        }

        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return new DigestCheckingStream(body, digest, expected, Describe($"blobs/{digest}"), response);
    }

    /// <summary>
    /// Opens part of a blob (the contract of <see cref="IStoreReader.OpenReadRangeAsync"/>) with a <c>Range</c>
    /// header. The digest cannot be checked: it covers the whole blob, and a range is not the whole blob; the bytes
    /// are those the registry sends for that digest. A registry may ignore the header and answer 200 with the whole
    /// blob: it is then skipped forward and cut. <paramref name="size"/> (a descriptor's) bounds the body when known.
    /// </summary>
    /// <exception cref="StoreObjectNotFoundException">The repository has no such blob.</exception>
    /// <exception cref="RangeNotSatisfiableException">The offset is past the blob's size.</exception>
    public async Task<Stream> OpenBlobRangeAsync(string digest, long offset, long? length, long? size = null,
        CancellationToken cancellationToken = default)
    {
        StoreRange.CheckArguments(offset, length);
        var location = Describe($"blobs/{digest}");
        if (length == 0 || offset >= size)
        {
            var known = size ?? await HeadBlobAsync(digest, cancellationToken).ConfigureAwait(false)
                ?? throw new StoreObjectNotFoundException(location);
            return offset <= known ? Stream.Null : throw new RangeNotSatisfiableException(location, offset, known);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, BlobUri(digest));
        request.Headers.Range = new RangeHeaderValue(offset, offset + length - 1);
        var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            response.Dispose();
            return await OpenBlobRangeAsync(digest, offset, 0,
                await HeadBlobAsync(digest, cancellationToken).ConfigureAwait(false)
                    ?? throw new StoreObjectNotFoundException(location), cancellationToken).ConfigureAwait(false);
        }

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            throw new StoreObjectNotFoundException(location);
        }

        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            // Never more than the response declares (a registry could send for ever), nor than the range.
            var limit = Math.Min(length ?? long.MaxValue, response.Content.Headers.ContentLength ?? long.MaxValue);
            if (response.StatusCode != HttpStatusCode.PartialContent)
            {
                await StoreRange.SkipAsync(body, offset, location, cancellationToken).ConfigureAwait(false);
                limit = Math.Min(length ?? long.MaxValue, (response.Content.Headers.ContentLength ?? size) - offset
                    ?? long.MaxValue);
            }
            else if (response.Content.Headers.ContentRange is var sent && sent?.From != offset)
            {
                throw new InvalidContentException(location, $"asked for bytes from {offset}, the registry sent "
                    + (sent?.ToString() ?? "a partial answer without Content-Range"));
            }

            return new LengthLimitedStream(body, limit, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Reads a small blob whole, checked against its digest.</summary>
    public async Task<byte[]> ReadBlobAsync(string digest, long? size, long maxBytes,
        CancellationToken cancellationToken = default)
    {
        if (size > maxBytes)
        {
            throw new InvalidContentException(Describe($"blobs/{digest}"),
                $"blob of {size} bytes is larger than the {maxBytes} expected here");
        }

        await using var stream = await OpenBlobAsync(digest, size, cancellationToken).ConfigureAwait(false);
        return await HttpBodies.ReadAsync(stream, size, Describe($"blobs/{digest}"), maxBytes, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Uploads a blob of known digest from a stream positioned at its start: POST for a session, then one PUT with the
    /// whole body, or PATCH chunks and a closing PUT for blobs above the threshold. The registry checks the digest.
    /// With <paramref name="mountFrom"/>, first asks the registry to link the blob from that repository instead.
    /// </summary>
    public async Task UploadBlobAsync(Stream content, string digest, long size, string? mountFrom = null,
        CancellationToken cancellationToken = default)
    {
        var start = mountFrom is null ? Api("blobs/uploads/")
            : Api($"blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(mountFrom)}");
        Uri location;
        using (var post = new HttpRequestMessage(HttpMethod.Post, start) { Content = new ByteArrayContent([]) })
        {
            using var response = await SendAsync(post, cancellationToken).ConfigureAwait(false);
            if (mountFrom is not null && response.StatusCode == HttpStatusCode.Created)
            {
                return;
            }

            await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            location = Location(response);
        }

        if (size > options.ChunkedUploadThreshold)
        {
            var buffer = new byte[options.ChunkSize];
            long sent = 0;
            while (sent < size)
            {
                var n = await content.ReadAtLeastAsync(buffer, (int)Math.Min(buffer.Length, size - sent),
                    throwOnEndOfStream: true, cancellationToken).ConfigureAwait(false);
                using var patch = new HttpRequestMessage(HttpMethod.Patch, location)
                {
                    Content = new ByteArrayContent(buffer, 0, n),
                };
                patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                patch.Content.Headers.TryAddWithoutValidation("Content-Range", $"{sent}-{sent + n - 1}");
                using var response = await SendAsync(patch, cancellationToken).ConfigureAwait(false);
                await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
                location = Location(response);
                sent += n;
            }

            using var close = new HttpRequestMessage(HttpMethod.Put, WithDigest(location, digest))
            {
                Content = new ByteArrayContent([]),
            };
            using var closed = await SendAsync(close, cancellationToken).ConfigureAwait(false);
            await EnsureSuccessAsync(closed, cancellationToken).ConfigureAwait(false);
            return;
        }

        using var put = new HttpRequestMessage(HttpMethod.Put, WithDigest(location, digest))
        {
            Content = new StreamContent(content, 1 << 20),
        };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        put.Content.Headers.ContentLength = size;
        using var done = await SendAsync(put, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(done, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks the registry to link a blob from another repository of its own; false when it would not.</summary>
    public async Task<bool> TryMountBlobAsync(string digest, string fromRepository,
        CancellationToken cancellationToken = default)
    {
        using var post = new HttpRequestMessage(HttpMethod.Post,
            Api($"blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(fromRepository)}"))
        { Content = new ByteArrayContent([]) };
        using var response = await SendAsync(post, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.Created;
    }

    /// <summary>
    /// Uploads bytes as a blob unless the repository has it already. Returns its digest. Callers of this client asking
    /// for the same bytes at once (every signature artifact's empty config, <c>{}</c>) share one check and upload:
    /// the distribution registry, given two uploads of one digest committing together, briefly answers
    /// MANIFEST_BLOB_UNKNOWN to a manifest naming it.
    /// </summary>
    public async Task<string> PutBlobIfMissingAsync(byte[] content, CancellationToken cancellationToken = default)
    {
        var digest = Digest(content);
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = smallUploads.GetOrAdd(digest, mine.Task);
        if (shared != mine.Task)
        {
            await shared.WaitAsync(cancellationToken).ConfigureAwait(false);
            return digest;
        }

        try
        {
            if (await HeadBlobAsync(digest, cancellationToken).ConfigureAwait(false) is null)
            {
                await UploadBlobAsync(new MemoryStream(content, writable: false), digest, content.LongLength, null,
                    cancellationToken).ConfigureAwait(false);
            }

            mine.SetResult();
        }
        catch (Exception e)
        {
            mine.SetException(e);
            _ = mine.Task.Exception; // observed here: no one else may be waiting for it
            throw;
        }
        finally
        {
            // Only uploads in flight are shared: a later call checks the registry again.
            smallUploads.TryRemove(new KeyValuePair<string, Task>(digest, mine.Task));
        }

        return digest;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> smallUploads =
        new(StringComparer.Ordinal);
}
