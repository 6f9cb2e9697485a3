using System.Buffers;
using System.Net;

namespace Depot.Storage;

/// <summary>
/// Time limits a client's overall timeout cannot give: it covers the wait for headers only, never a body read
/// afterwards, so a server sending one byte every few seconds would hold Depot for ever. Sitting just above the
/// transport, this handler makes every response body fail once no byte arrived for <c>idle</c>, and makes reads (GET,
/// HEAD) fail when no answer came within <c>idle</c>. Writes wait for the client's own timeout: an upload's answer
/// comes after its body, and a registry may take a while to commit a large blob.
/// </summary>
internal sealed class IdleTimeoutHandler(TimeSpan idle) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        if (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(idle);
            try
            {
                response = await base.SendAsync(request, timer.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpRequestException
                && timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new DepotException(ErrorKind.IO,
                    $"{request.Method} {Where(request.RequestUri)}: no answer within {HttpBodies.Seconds(idle)} s");
            }
        }
        else
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        response.Content = new IdleTimeoutContent(response.Content, idle,
            Where(response.RequestMessage?.RequestUri ?? request.RequestUri));
        return response;
    }

    private static string Where(Uri? uri) => uri?.GetLeftPart(UriPartial.Path) ?? "(no URL)";

    /// <summary>A response's content, read through <see cref="IdleTimeoutStream"/>; headers as the server sent
    /// them.</summary>
    private sealed class IdleTimeoutContent : HttpContent
    {
        private readonly HttpContent inner;
        private readonly TimeSpan idle;
        private readonly string location;

        public IdleTimeoutContent(HttpContent inner, TimeSpan idle, string location)
        {
            this.inner = inner;
            this.idle = idle;
            this.location = location;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new IdleTimeoutStream(await inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), idle,
                location);

        protected override Task<Stream> CreateContentReadStreamAsync() =>
            CreateContentReadStreamAsync(CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context,
            CancellationToken cancellationToken)
        {
            await using var body = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await body.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A read-only stream that fails with a one-line <see cref="DepotException"/> when a read waits longer than
/// <c>idle</c>.</summary>
internal sealed class IdleTimeoutStream(Stream inner, TimeSpan idle, string location)
    : Formats.PassThroughReadStream(inner)
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(idle);
        try
        {
            return await Inner.ReadAsync(buffer, timer.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException
            && timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new DepotException(ErrorKind.IO,
                $"{location}: no data for {HttpBodies.Seconds(idle)} s; the server stalled in the middle of the body");
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    // Synchronous readers (a tar or gzip reader) get the same limit; the network read underneath is asynchronous
    // anyway.
    public override int Read(Span<byte> buffer)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var n = ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
