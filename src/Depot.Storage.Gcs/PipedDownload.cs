using System.IO.Pipelines;

namespace Depot.Storage.Gcs;

/// <summary>
/// A download the client can only write into a stream it is given, turned into a stream the caller reads as the bytes
/// arrive: the client writes into a pipe that holds at most its pause threshold (64 KiB) ahead of the reader, so
/// nothing is held whole, in memory or on disk. The download's first answer (an error such as 404, or its first bytes)
/// is awaited before the stream is handed out, so a missing object fails the open, not the first read.
/// </summary>
internal static class PipedDownload
{
    /// <summary>Starts <paramref name="download"/> writing into a pipe and returns the reading end; an error of the
    /// download, at the start or later, surfaces as <paramref name="translate"/> makes it (itself when null).</summary>
    public static async Task<Stream> StartAsync(Func<Stream, CancellationToken, Task> download,
        Func<Exception, Exception?> translate, CancellationToken cancellationToken)
    {
        var pipe = new Pipe();
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writing = Task.Run(async () =>
        {
            try
            {
                await download(pipe.Writer.AsStream(leaveOpen: true), cancel.Token).ConfigureAwait(false);
                await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
            }
        }, CancellationToken.None);
        try
        {
            var first = await pipe.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            pipe.Reader.AdvanceTo(first.Buffer.Start); // nothing consumed: the caller reads these bytes
        }
        catch (Exception e)
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            await writing.ConfigureAwait(false);
            cancel.Dispose();
            if (translate(e) is { } translated)
            {
                throw translated;
            }

            throw;
        }

        return new ReadingEnd(pipe.Reader, cancel, writing, translate);
    }

    // The pipe's reader as a stream; disposing it stops the download.
    private sealed class ReadingEnd(PipeReader reader, CancellationTokenSource cancel, Task writing,
        Func<Exception, Exception?> translate) : Depot.Formats.ReadOnlyStream
    {
        private readonly Stream inner = reader.AsStream(leaveOpen: true);
        private bool disposed;

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer,
            CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (translate(e) is { } translated)
            {
                throw translated;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                StopAsync().AsTask().GetAwaiter().GetResult();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await StopAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private async ValueTask StopAsync()
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            await cancel.CancelAsync().ConfigureAwait(false);
            await reader.CompleteAsync().ConfigureAwait(false);
            await writing.ConfigureAwait(false); // never throws: the download's errors complete the pipe
            cancel.Dispose();
        }
    }
}
