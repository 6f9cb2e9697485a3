using System.Buffers;
using System.Globalization;
using System.Text;
using Depot.Formats;
using Depot.Specs;

namespace Depot.Layout;

/// <summary>One piece of a planned index: a record to write, or a run of the previous index's records copied as
/// bytes. A class, not a struct: generic code over a struct of Depot's own is compiled at run time, not ahead of it
/// (ReadyToRun), which costs a short <c>depot index</c> more than the allocations.</summary>
internal sealed record IndexPiece(string? Hash, int RefCount, bool InBuildcache, int RunFirst, int RunLast)
{
    public static IndexPiece Of(string hash, int refCount, bool inBuildcache) =>
        new(hash, refCount, inBuildcache, -1, -1);

    /// <summary>Records <paramref name="first"/> to <paramref name="last"/> of the previous index's table.</summary>
    public static IndexPiece Run(int first, int last) => new(null, 0, false, first, last);

    public bool IsRun => Hash is null;

    public int Records => IsRun ? RunLast - RunFirst + 1 : 1;
}

/// <summary>
/// Index JSON planned by <see cref="IndexComposer"/>, written as a stream in pieces of 64 KiB: the index is never one
/// array in memory (at 200,000 specs it is 222 MB), and the table of what was written (record positions) comes back
/// to be cached for the next incremental update.
/// </summary>
public sealed class ComposedIndex
{
    // Writes go out in pieces of this size: one write of tens of megabytes is several times slower than the same
    // bytes in 64 KiB writes on some kernels (measured on the 2-core bench machine: 100 ms against 10 for 29 MB).
    private const int Chunk = 1 << 16;

    private readonly int databaseVersion;
    private readonly List<IndexPiece> pieces;
    private readonly IndexGraph graph;
    private readonly IndexSnapshot? previous;

    internal ComposedIndex(int databaseVersion, List<IndexPiece> pieces, IndexGraph graph, IndexSnapshot? previous,
        bool spliced = false)
    {
        this.databaseVersion = databaseVersion;
        this.pieces = pieces;
        this.graph = graph;
        this.previous = previous;
        Spliced = spliced;
        foreach (var piece in pieces)
        {
            Records += piece.Records;
        }
    }

    /// <summary>How many records the index holds.</summary>
    public int Records { get; }

    /// <summary>True when runs of the previous index are copied as they are (see <see cref="IndexComposer"/>).
    /// </summary>
    public bool Spliced { get; }

    /// <summary>The whole index as one array (small indexes, and stores that take only arrays).</summary>
    public async Task<byte[]> ToArrayAsync(CancellationToken cancellationToken = default)
    {
        using var memory = new MemoryStream();
        await WriteToAsync(memory, cancellationToken).ConfigureAwait(false);
        return memory.ToArray();
    }

    /// <summary>Writes the index JSON to <paramref name="output"/>; returns the table of what was written (its
    /// record positions), to be saved with <see cref="IndexSnapshot.SaveTable"/>.</summary>
    public async Task<IndexSnapshot> WriteToAsync(Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var buffer = new ArrayBufferWriter<byte>(Chunk * 2);
        long flushed = 0;
        int Position() => checked((int)(flushed + buffer.WrittenCount));
        async ValueTask FlushAsync(bool all)
        {
            if (buffer.WrittenCount >= Chunk || (all && buffer.WrittenCount > 0))
            {
                await output.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
                flushed += buffer.WrittenCount;
                buffer.ResetWrittenCount();
            }
        }

        var version = databaseVersion.ToString(CultureInfo.InvariantCulture);
        buffer.Write(Encoding.ASCII.GetBytes($"{{\"database\":{{\"version\":\"{version}\",\"installs\":{{"));
        var table = new List<IndexSnapshot.Record>(Records);
        for (var i = 0; i < pieces.Count; i++)
        {
            if (i > 0)
            {
                buffer.Write(","u8);
            }

            var piece = pieces[i];
            if (piece.IsRun)
            {
                await FlushAsync(all: true).ConfigureAwait(false);
                var (start, end) = IndexSplice.BytesOf(previous!, piece);
                var shift = Position() - start;
                for (var offset = start; offset < end; offset += Chunk)
                {
                    await output.WriteAsync(previous!.Bytes[offset..Math.Min(end, offset + Chunk)], cancellationToken)
                        .ConfigureAwait(false);
                }

                flushed += end - start;
                for (var k = piece.RunFirst; k <= piece.RunLast; k++)
                {
                    var record = previous!.Table[k];
                    table.Add(shift == 0 ? record : record with { SpecStart = record.SpecStart + shift });
                }

                continue;
            }

            table.Add(WriteRecord(buffer, piece, Position));
            await FlushAsync(all: false).ConfigureAwait(false);
        }

        buffer.Write("}}}"u8);
        await FlushAsync(all: true).ConfigureAwait(false);
        return IndexSnapshot.FromWritten(Position(), "index", databaseVersion, table);
    }

    // "HASH":{"spec":SPEC,"ref_count":N,"in_buildcache":BOOL}
    private IndexSnapshot.Record WriteRecord(ArrayBufferWriter<byte> buffer, IndexPiece piece, Func<int> position)
    {
        var hash = piece.Hash!;
        WriteKey(buffer, hash);
        buffer.Write(":{\"spec\":"u8);
        var specStart = position();
        IReadOnlyList<string> deps;
        if (graph.Fresh.TryGetValue(hash, out var node))
        {
            if (!node.IsCompactSource || (databaseVersion >= 8 && NeedsAnnotations(node)))
            {
                buffer.Write(Serialise(node, databaseVersion));
            }
            else
            {
                buffer.Write(node.CompactText);
            }

            deps = graph.DependenciesOf(hash);
        }
        else
        {
            var record = previous!.Find(hash)!;
            buffer.Write(previous.SpecBytes(record));
            deps = record.Dependencies;
        }

        var specLength = position() - specStart;
        buffer.Write(",\"ref_count\":"u8);
        buffer.Write(Encoding.ASCII.GetBytes(piece.RefCount.ToString(CultureInfo.InvariantCulture)));
        buffer.Write(piece.InBuildcache ? ",\"in_buildcache\":true}"u8 : ",\"in_buildcache\":false}"u8);
        return new IndexSnapshot.Record(hash, specStart, specLength, piece.RefCount, piece.InBuildcache, deps);
    }

    // A hash as a JSON key; one that needs escaping (never a Spack hash) goes through the writer.
    private static void WriteKey(ArrayBufferWriter<byte> buffer, string hash)
    {
        if (IndexSplice.IsPlainKey(hash))
        {
            var span = buffer.GetSpan(hash.Length + 2);
            span[0] = (byte)'"';
            Encoding.ASCII.GetBytes(hash, span[1..]);
            span[hash.Length + 1] = (byte)'"';
            buffer.Advance(hash.Length + 2);
        }
        else
        {
            new PythonJsonWriter(buffer).WriteString(hash);
        }
    }

    // A node of Spack 1.x's compact text names no "compiler" key (the bytes say so without a property lookup).
    private static bool NeedsAnnotations(SpecNode node) =>
        (!node.IsCompactSource || node.CompactText.IndexOf("\"compiler\":"u8) >= 0)
        && LegacyNodes.NeedsAnnotations(node.Json);

    private static byte[] Serialise(SpecNode node, int databaseVersion)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        var w = new PythonJsonWriter(buffer);
        if (databaseVersion >= 8 && NeedsAnnotations(node))
        {
            LegacyNodes.WriteAnnotated(w, node.Json); // a Spack 0.21-0.23 node in Spack 1.x's index
        }
        else
        {
            w.WriteElement(node.Json);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
