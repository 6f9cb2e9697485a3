using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Depot.Layout;
using Depot.Specs;
using Microsoft.Win32.SafeHandles;

namespace Depot.Bench;

/// <summary>Writing the generated entries: blobs, manifests, gzip.</summary>
internal sealed partial class V3Generator
{
    private long WriteAll(BlockingCollection<int> queue)
    {
        var root = options.Directory;
        Directory.CreateDirectory(root);
        for (var i = 0; i < 256; i++)
        {
            Directory.CreateDirectory(Path.Combine(root, "blobs", "sha256",
                i.ToString("x2", CultureInfo.InvariantCulture)));
        }

        long written = 0;
        var source = Partitioner.Create(queue.GetConsumingEnumerable(), EnumerablePartitionerOptions.NoBuffering);
        Parallel.ForEach(source, new ParallelOptions { MaxDegreeOfParallelism = options.Jobs }, id =>
        {
            var bytes = WriteEntry(id);
            Interlocked.Add(ref written, bytes);
        });

        var layout = Path.Combine(root, BuildCacheV3.LayoutKey);
        if (!File.Exists(layout))
        {
            File.WriteAllBytes(layout, BuildCacheV3.LayoutJson);
        }

        return written;
    }

    /// <summary>Writes one entry the way Spack pushes it: tarball blob, spec blob, then the manifest.</summary>
    private long WriteEntry(int id)
    {
        var t0 = Stopwatch.GetTimestamp();
        var node = graph[id];
        var tarball = Tarball.Build(graph, node);
        var t1 = Stopwatch.GetTimestamp();
        var specJson = SpecBlob(id);
        var t2 = Stopwatch.GetTimestamp();
        var spec = Gzip(specJson);
        var t3 = Stopwatch.GetTimestamp();
        var tarRecord = WriteBlob(tarball, MediaTypes.Tarball);
        var specRecord = WriteBlob(spec, MediaTypes.SpecV5);
        var t4 = Stopwatch.GetTimestamp();
        Interlocked.Add(ref phaseTicks[0], t1 - t0);
        Interlocked.Add(ref phaseTicks[1], t2 - t1);
        Interlocked.Add(ref phaseTicks[2], t3 - t2);
        Interlocked.Add(ref phaseTicks[3], t4 - t3);
        var manifest = new BuildCacheManifest([tarRecord, specRecord]).ToJsonBytes();

        SpecNode parsed;
        using var doc = System.Text.Json.JsonDocument.Parse(node.Json);
        parsed = SpecNode.Parse(doc.RootElement, "generated");
        var key = BuildCacheV3.SpecManifestKey(parsed);
        var path = Path.Combine(options.Directory, key);
        // GetOrAdd, not TryAdd-then-create: a second writer of the same package must not go on before the folder
        // exists (it did, and failed, when two entries of one package were written at once).
        manifestDirs.GetOrAdd(node.Name, _ => Directory.CreateDirectory(Path.GetDirectoryName(path)!).Exists);
        if (!TryWriteNew(path, manifest))
        {
            // Only when re-generating over an entry with this very hash: replace it atomically.
            var temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            File.WriteAllBytes(temp, manifest);
            File.Move(temp, path, overwrite: true);
        }
        Interlocked.Add(ref phaseTicks[4], Stopwatch.GetTimestamp() - t4);
        return tarball.Length + spec.Length + manifest.Length;
    }

    private byte[] SpecBlob(int id)
    {
        var order = graph.PreOrder(id);
        var length = SpecBlobHead.Length + SpecBlobTail.Length + order.Sum(n => graph[n].Json.Length + 1);
        using var ms = new MemoryStream(length);
        ms.Write(SpecBlobHead);
        for (var i = 0; i < order.Count; i++)
        {
            if (i > 0)
            {
                ms.WriteByte((byte)',');
            }

            ms.Write(graph[order[i]].Json);
        }

        ms.Write(SpecBlobTail);
        return ms.ToArray();
    }

    private BlobRecord WriteBlob(byte[] content, string mediaType)
    {
        var checksum = Convert.ToHexStringLower(SHA256.HashData(content));
        var record = new BlobRecord(content.LongLength, mediaType, "gzip", "sha256", checksum);
        // Content-addressed: an existing blob with this name already holds these bytes.
        TryWriteNew(Path.Combine(options.Directory, record.BlobKey), content);
        return record;
    }

    /// <summary>Creates a file that must not exist yet (one open, one write, one close); false if it exists.</summary>
    private static bool TryWriteNew(string path, byte[] content)
    {

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }

        using (handle)
        {
            RandomAccess.Write(handle, content, 0);
        }

        return true;
    }

    /// <summary>gzip as Spack's <c>GzipFile(mtime=0, compresslevel=6)</c> writes it (zlib level 6, OS byte
    /// 255).</summary>
    public static byte[] Gzip(ReadOnlySpan<byte> data)
    {
        using var ms = new MemoryStream(data.Length / 3 + 64);
        using (var gz = new GZipStream(ms, Level, leaveOpen: true))
        {
            gz.Write(data);
        }

        var bytes = ms.ToArray();
        bytes[9] = 0xff; // gzip OS byte as Python's GzipFile writes it; not covered by any checksum
        return bytes;
    }

    private static readonly ZLibCompressionOptions Level = new() { CompressionLevel = 6 };
}
