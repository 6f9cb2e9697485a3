using System.Text.Json;
using Depot.Specs;

namespace Depot.Layout;

/// <summary>
/// An existing index read with a forward-only reader: for each record its hash, the byte range of its spec node,
/// <c>ref_count</c>, <c>in_buildcache</c> and the hashes it depends on. Nothing is parsed into documents until a
/// node is asked for, so re-indexing a cache of 20,000 specs does not rebuild 20,000 node objects to add ten.
/// </summary>
public sealed class IndexSnapshot
{
    private readonly byte[]? json; // null in a snapshot of an index written as a stream: its table only
    private readonly List<Record> table;
    private Dictionary<string, Record>? records;
    private readonly Dictionary<string, SpecNode> parsed = new(StringComparer.Ordinal);
    private readonly string location;

    private IndexSnapshot(byte[]? json, int length, string location, int databaseVersion, List<Record> table,
        Dictionary<string, Record>? records)
    {
        this.json = json;
        Length = length;
        this.location = location;
        DatabaseVersion = databaseVersion;
        this.table = table;
        this.records = records;
        Order = new HashesOf(table);
    }

    /// <summary>One record's position and the fields re-indexing needs.</summary>
    public sealed record Record(string Hash, int SpecStart, int SpecLength, int RefCount, bool InBuildcache,
        IReadOnlyList<string> Dependencies);

    public int DatabaseVersion { get; }

    /// <summary>The length of the index JSON in bytes.</summary>
    public int Length { get; }

    /// <summary>Record hashes in file order.</summary>
    public IReadOnlyList<string> Order { get; }

    /// <summary>Records in file order (their <see cref="Record.SpecStart"/> increasing).</summary>
    public IReadOnlyList<Record> Table => table;

    public int Count => table.Count;

    /// <summary>
    /// True when the index was written by <see cref="IndexComposer"/> (known from its saved table): records compact,
    /// in the composer's order, every dependency before its dependents. Only then can a new index be spliced from it
    /// (<see cref="IndexComposer"/>) instead of written record by record.
    /// </summary>
    public bool InComposedOrder { get; private init; }

    /// <summary>Dependency hashes that name no earlier record (missing from the index), when known (a loaded
    /// table); else null.</summary>
    public IReadOnlySet<string>? DanglingDependencies { get; private init; }

    public Record? Find(string hash) => Records.GetValueOrDefault(hash);

    /// <summary>The stored bytes of a record's spec node, exactly as written.</summary>
    public ReadOnlySpan<byte> SpecBytes(Record record) => Json.AsSpan(record.SpecStart, record.SpecLength);

    /// <summary>The index JSON this snapshot was read from.</summary>
    public ReadOnlyMemory<byte> Bytes => Json;

    private byte[] Json => json ?? throw new InvalidOperationException("a written index's table has no JSON");

    /// <summary>Parses one record's node on demand (for display), keeping the result.</summary>
    public SpecNode? Node(string hash)
    {
        lock (parsed)
        {
            if (parsed.TryGetValue(hash, out var node))
            {
                return node;
            }

            if (!Records.TryGetValue(hash, out var r))
            {
                return null;
            }

            try
            {
                node = SpecNode.Parse(JsonDocument.Parse(Json.AsMemory(r.SpecStart, r.SpecLength),
                    SpecFile.DocumentOptions).RootElement, location);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new InvalidContentException(location, "malformed JSON: " + e.Message);
            }

            parsed[hash] = node;
            return node;
        }
    }

    /// <summary>The table of index JSON just written by <see cref="IndexComposer"/> (<paramref name="length"/>
    /// bytes), from the records its writer kept; saved with <see cref="SaveTable"/> to be spliced next time.</summary>
    internal static IndexSnapshot FromWritten(int length, string location, int databaseVersion, List<Record> written) =>
        new(null, length, location, databaseVersion, written, null) { InComposedOrder = true };

    /// <summary>A list of the records' hashes without copying them.</summary>
    private sealed class HashesOf(List<Record> table) : IReadOnlyList<string>
    {
        public string this[int index] => table[index].Hash;

        public int Count => table.Count;

        public IEnumerator<string> GetEnumerator() => table.Select(r => r.Hash).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private Dictionary<string, Record> Records => records ??= table.ToDictionary(r => r.Hash, StringComparer.Ordinal);

    /// <summary>Saves the record table (not the JSON) so the next run can skip scanning the index. A dependency is
    /// saved as the position of its record (dependencies come first), else as its hash.</summary>
    public void SaveTable(Stream output)
    {
        using var w = new BinaryWriter(output, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(TableMagic);
        w.Write(Length);
        w.Write(DatabaseVersion);
        w.Write(InComposedOrder);
        w.Write(table.Count);
        // Dependencies are nearly always the very string of their record's hash (shared as tables load and indexes
        // are composed): looked up by reference first, two million times at 200,000 specs, by text only if missed.
        var byReference = new Dictionary<string, int>(table.Count, ReferenceEqualityComparer.Instance);
        var byText = new Dictionary<string, int>(table.Count, StringComparer.Ordinal);
        for (var index = 0; index < table.Count; index++)
        {
            var r = table[index];
            w.Write(r.Hash);
            w.Write(r.SpecStart);
            w.Write(r.SpecLength);
            w.Write(r.RefCount);
            w.Write(r.InBuildcache);
            var deps = r.Dependencies;
            w.Write(deps.Count);
            for (var i = 0; i < deps.Count; i++)
            {
                if (byReference.TryGetValue(deps[i], out var at) || byText.TryGetValue(deps[i], out at))
                {
                    w.Write(at);
                }
                else
                {
                    w.Write(-1);
                    w.Write(deps[i]);
                }
            }

            byReference.TryAdd(r.Hash, index);
            byText.TryAdd(r.Hash, index);
        }
    }

    /// <summary>Loads a table saved by <see cref="SaveTable"/> for this exact JSON; null when it does not
    /// fit.</summary>
    public static IndexSnapshot? LoadTable(Stream input, byte[] json, string location) =>
        LoadTable(input, location)?.Bind(json);

    /// <summary>
    /// The table alone (loaded while the index is still being read and checked): <see cref="Bind"/> it to the JSON
    /// once read. Null when it is not a table.
    /// </summary>
    public static IndexSnapshot? LoadTable(Stream input, string location)
    {
        try
        {
            using var r = new BinaryReader(input, System.Text.Encoding.UTF8, leaveOpen: true);
            int length;
            if (r.ReadInt32() != TableMagic || (length = r.ReadInt32()) < 0)
            {
                return null;
            }

            var version = r.ReadInt32();
            var composed = r.ReadBoolean();
            var count = r.ReadInt32();
            if (count < 0 || count > length)
            {
                return null;
            }

            var records = new Dictionary<string, Record>(count, StringComparer.Ordinal);
            var order = new List<Record>(count);
            var dangling = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var hash = r.ReadString();
                int start = r.ReadInt32(), specLength = r.ReadInt32(), refCount = r.ReadInt32();
                var inCache = r.ReadBoolean();
                var deps = new string[r.ReadInt32()];
                for (var d = 0; d < deps.Length; d++)
                {
                    // Records earlier in the table are named by position: their hash strings are shared, not copied.
                    var at = r.ReadInt32();
                    if (at < 0)
                    {
                        deps[d] = r.ReadString();
                        dangling.Add(deps[d]);
                    }
                    else
                    {
                        deps[d] = at < order.Count ? order[at].Hash : throw new EndOfStreamException();
                    }
                }

                var record = new Record(hash, start, specLength, refCount, inCache, deps);
                if (start < 0 || specLength <= 0 || start + specLength > length
                    || (order.Count > 0 && start <= order[^1].SpecStart) || !records.TryAdd(hash, record))
                {
                    return null;
                }

                order.Add(record);
            }

            return new IndexSnapshot(null, length, location, version, order, records)
            {
                InComposedOrder = composed,
                DanglingDependencies = dangling,
            };
        }
        catch (EndOfStreamException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>This table bound to the JSON it was saved for (read from <paramref name="jsonLocation"/>): null
    /// unless the JSON has the length saved and every record's node starts where the table says.</summary>
    public IndexSnapshot? Bind(byte[] json, string? jsonLocation = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length != Length || table.Any(r => json[r.SpecStart] != (byte)'{'))
        {
            return null;
        }

        return new IndexSnapshot(json, Length, jsonLocation ?? location, DatabaseVersion, table, records)
        {
            InComposedOrder = InComposedOrder,
            DanglingDependencies = DanglingDependencies,
        };
    }

    // "DPX4": tables saved before record keys were checked against their specs' hashes (DPX1), with every
    // dependency as a string (DPX2), or without saying whether the composer wrote the index (DPX3), are not reused.
    private const int TableMagic = 0x44505834;

    /// <exception cref="InvalidContentException">Malformed JSON or an unsupported database version.</exception>
    public static IndexSnapshot Read(byte[] json, string location)
    {
        try
        {
            return ReadCore(json, location);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a value of the wrong JSON type, or a string that is not valid UTF-8.
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }
    }

    private static IndexSnapshot ReadCore(byte[] json, string location)
    {
        var reader = new Utf8JsonReader(json, SpecFile.ReaderOptions);
        int? version = null;
        var records = new Dictionary<string, Record>(StringComparer.Ordinal);
        var order = new List<Record>();
        var sawDatabase = false;
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, location,
            "not a build cache index: no 'database' object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("database"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            sawDatabase = true;
            Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, location,
                "not a build cache index: no 'database' object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("version"u8))
                {
                    reader.Read();
                    var text = reader.TokenType == JsonTokenType.String ? reader.GetString()
                        : reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number)
                            ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                    if (!int.TryParse(text, out var v) || v is < 5 or > 8)
                    {
                        throw new InvalidContentException(location,
                            $"unsupported index database version '{text}' (Depot reads 5 to 8)");
                    }

                    version = v;
                }
                else if (reader.ValueTextEquals("installs"u8))
                {
                    Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, location,
                        "index has no 'database.installs' object");
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var hash = reader.GetString()!;
                        var (record, specHash) = ReadRecord(ref reader, hash, location, records);
                        BuildCacheIndex.CheckKey(hash, specHash ?? "(none)", records.ContainsKey(hash), location);
                        records.Add(hash, record);
                        order.Add(record);
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        Expect(sawDatabase, location, "not a build cache index: no 'database' object");
        Expect(version is not null, location, "index has no 'database.version'");
        return new IndexSnapshot(json, json.Length, location, version!.Value, order, records);
    }

    // The record, and the hash its spec node states ("hash", else "full_hash" or "build_hash", as SpecNode reads it).
    private static (Record Record, string? SpecHash) ReadRecord(ref Utf8JsonReader reader, string hash, string location,
        Dictionary<string, Record> known)
    {
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, location,
            $"index record {hash} is not an object");
        int specStart = -1, specLength = 0, refCount = 0;
        var inCache = false;
        string? specHash = null, fullHash = null, buildHash = null;
        var deps = new List<string>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("spec"u8))
            {
                Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, location,
                    $"index record {hash} has no 'spec'");
                specStart = (int)reader.TokenStartIndex;
                var depth = reader.CurrentDepth;
                while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
                {
                    if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
                    {
                        if (reader.ValueTextEquals("dependencies"u8))
                        {
                            ReadDependencyHashes(ref reader, deps, known);
                        }
                        else if (reader.ValueTextEquals("hash"u8) || reader.ValueTextEquals("full_hash"u8)
                            || reader.ValueTextEquals("build_hash"u8))
                        {
                            var field = reader.GetString();
                            reader.Read();
                            var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                            reader.Skip();
                            if (field == "hash")
                            {
                                specHash = value;
                            }
                            else if (field == "full_hash")
                            {
                                fullHash = value;
                            }
                            else
                            {
                                buildHash = value;
                            }
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }
                }

                specLength = (int)reader.BytesConsumed - specStart;
            }
            else if (reader.ValueTextEquals("ref_count"u8))
            {
                reader.Read();
                refCount = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n) ? n : 0;
            }
            else if (reader.ValueTextEquals("in_buildcache"u8))
            {
                reader.Read();
                inCache = reader.TokenType == JsonTokenType.True;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        Expect(specStart >= 0, location, $"index record {hash} has no 'spec'");
        return (new Record(hash, specStart, specLength, refCount, inCache, deps), specHash ?? fullHash ?? buildHash);
    }

    private static void ReadDependencyHashes(ref Utf8JsonReader reader, List<string> deps,
        Dictionary<string, Record> known)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                ReadHashField(ref reader, deps, known);
            }
        }
        else if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadHashField(ref reader, deps, known);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        else
        {
            reader.Skip();
        }
    }

    /// <summary>Reads an edge object (reader on its StartObject) and takes its "hash".</summary>
    private static void ReadHashField(ref Utf8JsonReader reader, List<string> deps, Dictionary<string, Record> known)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isHash = reader.ValueTextEquals("hash"u8);
            reader.Read();
            if (isHash && reader.TokenType == JsonTokenType.String)
            {
                deps.Add(SharedHash(ref reader, known));
            }
            else
            {
                reader.Skip();
            }
        }
    }

    /// <summary>The string value under the reader, as the key of an earlier record when there is one: an index of
    /// 200,000 specs names its records some two million times as dependencies.</summary>
    private static string SharedHash(ref Utf8JsonReader reader, Dictionary<string, Record> known)
    {
        if (!reader.HasValueSequence && !reader.ValueIsEscaped && reader.ValueSpan.Length <= 64
            && System.Text.Ascii.IsValid(reader.ValueSpan))
        {
            Span<char> chars = stackalloc char[64];
            var n = System.Text.Encoding.ASCII.GetChars(reader.ValueSpan, chars);
            if (known.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars[..n], out var key, out _))
            {
                return key;
            }
        }

        return reader.GetString()!;
    }

    private static void Expect(bool condition, string location, string problem)
    {
        if (!condition)
        {
            throw new InvalidContentException(location, problem);
        }
    }
}
