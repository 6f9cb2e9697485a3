using System.Buffers;
using System.Text.Json;
using Depot.Formats;
using Depot.Specs;

namespace Depot.Layout;

/// <summary>One record of a build cache index: a node, how many indexed nodes depend on it, and whether it was
/// pushed.</summary>
public sealed record IndexRecord(SpecNode Spec, int RefCount, bool InBuildcache);

/// <summary>
/// A build cache index: Spack's database JSON restricted to <c>spec</c>, <c>ref_count</c> and <c>in_buildcache</c>
/// (<c>{"database":{"version":"8","installs":{hash:record}}}</c>; version 7 in layout v2). Holds every node
/// reachable from the pushed specs; dependencies that were not pushed (externals, build deps) have
/// <c>in_buildcache: false</c>.
/// </summary>
public sealed class BuildCacheIndex
{
    // Records point into parsed documents through their JsonElements, which keep those documents alive.
    private readonly Dictionary<string, IndexRecord> records;

    private BuildCacheIndex(int databaseVersion, Dictionary<string, IndexRecord> records)
    {
        DatabaseVersion = databaseVersion;
        this.records = records;
    }

    /// <summary>Database version: 8 for Spack 1.x (layout v3), 7 for Spack 0.21 to 0.23 (layout v2).</summary>
    public int DatabaseVersion { get; }

    /// <summary>Records in file order.</summary>
    public IReadOnlyCollection<IndexRecord> Records => records.Values;

    public int Count => records.Count;

    public IndexRecord? Find(string hash) => records.GetValueOrDefault(hash);

    /// <summary>Specs that can be installed from the cache.</summary>
    public IEnumerable<SpecNode> CachedSpecs => records.Values.Where(r => r.InBuildcache).Select(r => r.Spec);

    /// <exception cref="InvalidContentException">Malformed JSON or an unsupported database version.</exception>
    public static BuildCacheIndex Parse(byte[] content, string location)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(content, Specs.SpecFile.DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }

        try
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("database", out var db)
                || db.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidContentException(location, "not a build cache index: no 'database' object");
            }

            var version = ReadVersion(db, location);
            if (!db.TryGetProperty("installs", out var installs) || installs.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidContentException(location, "index has no 'database.installs' object");
            }

            var records = new Dictionary<string, IndexRecord>(StringComparer.Ordinal);
            foreach (var entry in installs.EnumerateObject())
            {
                var r = entry.Value;
                if (r.ValueKind != JsonValueKind.Object || !r.TryGetProperty("spec", out var spec))
                {
                    throw new InvalidContentException(location, $"index record {entry.Name} has no 'spec'");
                }

                var node = SpecNode.Parse(spec, location);
                CheckKey(entry.Name, node.Hash, records.ContainsKey(entry.Name), location);
                var refCount = r.TryGetProperty("ref_count", out var rc) && rc.TryGetInt32(out var n) ? n : 0;
                var inCache = r.TryGetProperty("in_buildcache", out var ib) && ib.ValueKind == JsonValueKind.True;
                records[entry.Name] = new IndexRecord(node, refCount, inCache);
            }

            return new BuildCacheIndex(version, records);
        }
        catch (InvalidOperationException e)
        {
            // A value of the wrong JSON type where a reader did not check, or a string that is not valid UTF-8.
            doc.Dispose();
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Records are looked up by their key: a key must be the hash of the spec it holds, and appear once. An index that
    /// breaks this (no Spack writes one) is refused as a whole; listing then reads the entries themselves.
    /// </summary>
    /// <exception cref="InvalidContentException">The key repeats or differs from the spec's hash.</exception>
    internal static void CheckKey(string key, string specHash, bool seenBefore, string location)
    {
        if (seenBefore)
        {
            throw new InvalidContentException(location, $"index record {key} appears twice");
        }

        if (key != specHash)
        {
            throw new InvalidContentException(location, $"index record {key} holds a spec whose hash is {specHash}");
        }
    }

    private static int ReadVersion(JsonElement db, string location)
    {
        if (!db.TryGetProperty("version", out var v))
        {
            throw new InvalidContentException(location, "index has no 'database.version'");
        }

        var text = v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText();
        if (!int.TryParse(text, out var version) || version is < 5 or > 8)
        {
            throw new InvalidContentException(location,
                $"unsupported index database version '{text}' (Depot reads 5 to 8)");
        }

        return version;
    }

    /// <summary>The index JSON as Spack writes it: compact, no trailing newline.</summary>
    public byte[] ToJsonBytes()
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(4096, records.Count * 1536));
        var w = new PythonJsonWriter(buffer);
        w.StartObject();
        w.WritePropertyName("database");
        w.StartObject();
        w.WriteString("version", DatabaseVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WritePropertyName("installs");
        w.StartObject();
        foreach (var (hash, record) in records)
        {
            w.WritePropertyName(hash);
            w.StartObject();
            w.WritePropertyName("spec");
            w.WriteElement(record.Spec.Json);
            w.WriteNumber("ref_count", record.RefCount);
            w.WritePropertyName("in_buildcache");
            w.WriteBoolean(record.InBuildcache);
            w.EndObject();
        }

        w.EndObject();
        w.EndObject();
        w.EndObject();
        return buffer.WrittenSpan.ToArray();
    }
}
