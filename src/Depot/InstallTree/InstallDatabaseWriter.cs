using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Depot.Formats;
using Depot.Posix;
using Depot.Specs;

namespace Depot.InstallTree;

/// <summary>A record to add: the installed node, its prefix, and whether the user asked for it.</summary>
public sealed record NewInstallRecord(SpecNode Spec, string Path, bool Explicit);

/// <summary>
/// Adds records to a Spack install database the way another Spack process would (<c>install-tree.md</c> §4.2):
/// exclusive fcntl lock on <c>.spack-db/lock</c>, re-read <c>index.json</c> under it, add the new records (and their
/// dependencies that are missing: externals as installed at their path, others as not installed), recompute every
/// <c>ref_count</c>, write a temporary file and rename it over the index, then a fresh <c>index_verifier</c>.
/// Records already there are never rewritten (only their reference counts follow the new dependents). A database
/// with a duplicate key or a record keyed other than by its spec's hash is refused, and every new record's key is its
/// spec's recomputed DAG hash, so the result never holds one hash twice.
/// </summary>
public static class InstallDatabaseWriter
{
    /// <exception cref="DepotException">The database is of another Spack generation than the specs, or
    /// malformed.</exception>
    public static async Task AddAsync(string root, int versionIfNew, IReadOnlyList<NewInstallRecord> added,
        Func<string, SpecNode?> resolve, TimeSpan? lockTimeout = null, CancellationToken cancellationToken = default)
    {
        if (added.Count == 0)
        {
            return;
        }

        var dbFolder = Path.Combine(root, ".spack-db");
        Directory.CreateDirectory(dbFolder);
        using var held = await PosixFileLock.AcquireAsync(Path.Combine(dbFolder, "lock"), exclusive: true,
            lockTimeout ?? TimeSpan.FromSeconds(60), cancellationToken)
            .ConfigureAwait(false);
        var index = InstallDatabase.IndexPath(root);
        var version = versionIfNew;
        var records = new List<(string Hash, JsonElement Record)>();
        JsonDocument? existing = null;
        if (File.Exists(index))
        {
            existing = JsonDocument.Parse(await File.ReadAllBytesAsync(index, cancellationToken).ConfigureAwait(false));
            var db = existing.RootElement.GetProperty("database");
            version = int.Parse(db.GetProperty("version").ToString(), CultureInfo.InvariantCulture);
            records.AddRange(db.GetProperty("installs").EnumerateObject().Select(p => (p.Name, p.Value)));
            CheckExisting(records, index);
        }

        using (existing)
        {
            var present = records.Select(r => r.Hash).ToHashSet(StringComparer.Ordinal);
            var newRecords = new List<(SpecNode Spec, string? Path, bool Installed, bool Explicit)>();
            foreach (var r in added.Where(r => !present.Contains(r.Spec.Hash)))
            {
                CheckGeneration(r.Spec, version, index);
                newRecords.Add((r.Spec, r.Path, true, r.Explicit));
                present.Add(r.Spec.Hash);
            }

            // Dependencies a new record names but the database lacks (build dependencies, externals), as Spack adds
            // them.
            for (var i = 0; i < newRecords.Count; i++)
            {
                foreach (var edge in newRecords[i].Spec.Dependencies.Where(e => !present.Contains(e.Hash)))
                {
                    var dep = resolve(edge.Hash)
                        ?? throw new DepotException($"{index}: cannot record {newRecords[i].Spec.Name}: its dependency "
                            + $"{edge.Name}/{edge.Hash[..7]} is unknown");
                    if (dep.Hash != edge.Hash)
                    {
                        throw new DepotException($"{index}: cannot record {newRecords[i].Spec.Name}: its dependency "
                            + $"{edge.Name}/{edge.Hash[..7]} resolved to a spec with hash {dep.Hash}");
                    }

                    newRecords.Add((dep, dep.IsExternal ? dep.ExternalPath : null, dep.IsExternal, false));
                    present.Add(dep.Hash);
                }
            }

            CheckNew(newRecords.Select(n => n.Spec), index);
            var refCounts = CountReferences(records.Select(r => SpecNode.Parse(r.Record.GetProperty("spec"), index))
                .Concat(newRecords.Select(n => n.Spec)), records.Select(r => r.Record));
            var time = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            var buffer = new ArrayBufferWriter<byte>();
            var w = new PythonJsonWriter(buffer);
            w.StartObject();
            w.WritePropertyName("database");
            w.StartObject();
            w.WriteString("version", version.ToString(CultureInfo.InvariantCulture));
            w.WritePropertyName("installs");
            w.StartObject();
            foreach (var (hash, record) in records)
            {
                w.WritePropertyName(hash);
                w.StartObject();
                foreach (var field in record.EnumerateObject())
                {
                    w.WritePropertyName(field.Name);
                    if (field.Name == "ref_count")
                    {
                        w.WriteNumber(refCounts.GetValueOrDefault(hash));
                    }
                    else
                    {
                        w.WriteElement(field.Value);
                    }
                }

                w.EndObject();
            }

            foreach (var (spec, path, installed, @explicit) in newRecords)
            {
                w.WritePropertyName(spec.Hash);
                w.StartObject();
                w.WritePropertyName("spec");
                w.WriteElement(spec.Json);
                w.WriteNumber("ref_count", refCounts.GetValueOrDefault(spec.Hash));
                w.WritePropertyName("path");
                if (path is null)
                {
                    w.WriteNull();
                }
                else
                {
                    w.WriteString(path);
                }

                w.WritePropertyName("installed");
                w.WriteBoolean(installed);
                w.WritePropertyName("explicit");
                w.WriteBoolean(@explicit);
                w.WritePropertyName("installation_time");
                w.WriteNumber(time);
                w.WritePropertyName("deprecated_for");
                w.WriteNull();
                w.EndObject();
            }

            w.EndObject();
            w.EndObject();
            w.EndObject();

            var temp = Path.Combine(dbFolder, $"index.json.{Environment.MachineName}.{Environment.ProcessId}.temp");
            try
            {
                await File.WriteAllBytesAsync(temp, buffer.WrittenSpan.ToArray(), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch
            {
                File.Delete(temp);
                throw;
            }

            // The rename is the commit point: from here on the records are in, and a cancel no longer applies.
            File.Move(temp, index, overwrite: true);
            await File.WriteAllTextAsync(Path.Combine(dbFolder, "index_verifier"), Guid.NewGuid().ToString(),
                CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Spack's <c>dag_hash_bit_prefix</c>: the leading <paramref name="bits"/> bits of the base32-decoded DAG
    /// hash; with 63 bits, the byte offset of the spec's prefix lock.</summary>
    public static long HashBitPrefix(string hash, int bits)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        System.Numerics.BigInteger value = 0;
        foreach (var c in hash)
        {
            value = (value << 5) | Alphabet.IndexOf(c, StringComparison.Ordinal);
        }

        return (long)(value >> ((hash.Length * 5) - bits));
    }

    // Spack 1.x nodes (database 8) carry compilers as dependencies; 0.21 nodes (database 7) as a "compiler" field.
    /// <exception cref="DepotException">The spec comes from another Spack generation than the database.</exception>
    public static void CheckGeneration(SpecNode spec, int version, string index)
    {
        var oldStyle = spec.Json.TryGetProperty("compiler", out _);
        if (version >= 8 && oldStyle || version < 8 && !oldStyle && spec.Json.TryGetProperty("annotations", out _))
        {
            throw new DepotException(ErrorKind.Conflict,
                $"{index}: database version {version} belongs to Spack {(version >= 8 ? "1.x" : "0.21-0.23")}, but "
                + $"{spec.Name}/{spec.Hash[..7]} was built by Spack {(oldStyle ? "0.21-0.23" : "1.x")}: install it "
                + "into a tree of that Spack");
        }
    }

    // A database keyed by hash holds each hash once, under the hash of the spec it records (Spack's own are so); one
    // that does not would make Spack see one spec where there are two: leave it alone and say so.
    private static void CheckExisting(List<(string Hash, JsonElement Record)> records, string index)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (hash, record) in records)
        {
            if (!keys.Add(hash))
            {
                throw new DepotException($"{index}: record {hash} appears twice: repair the database ('spack reindex') "
                    + "before installing into it");
            }

            var specHash = record.ValueKind == JsonValueKind.Object && record.TryGetProperty("spec", out var spec)
                && spec.ValueKind == JsonValueKind.Object
                && spec.TryGetProperty("hash", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
            if (specHash is not null && specHash != hash)
            {
                throw new DepotException($"{index}: record {hash} holds a spec with hash {specHash}: repair the "
                    + "database ('spack reindex') before installing into it");
            }
        }
    }

    // New records are keyed by their node's hash, which must be the node's DAG hash: a record can only describe the
    // spec its key names.
    private static void CheckNew(IEnumerable<SpecNode> specs, string index)
    {
        foreach (var spec in specs)
        {
            if (DagHash.Compute(spec.Json) is var recomputed && recomputed != spec.Hash)
            {
                throw new DepotException($"{index}: refusing to record "
                    + $"{spec.Name}/{spec.Hash[..Math.Min(7, spec.Hash.Length)]}: its DAG hash recomputes to "
                    + $"{recomputed}");
            }
        }
    }

    // ref_count: dependents over tracked edges, plus records deprecated in favour of this one.
    private static Dictionary<string, int> CountReferences(IEnumerable<SpecNode> nodes,
        IEnumerable<JsonElement> existingRecords)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var edge in node.Dependencies.Where(e => e.Types != DepTypes.None).DistinctBy(e => e.Hash))
            {
                counts[edge.Hash] = counts.GetValueOrDefault(edge.Hash) + 1;
            }
        }

        foreach (var record in existingRecords)
        {
            if (record.TryGetProperty("deprecated_for", out var d) && d.ValueKind == JsonValueKind.String
                && d.GetString() is { } target)
            {
                counts[target] = counts.GetValueOrDefault(target) + 1;
            }
        }

        return counts;
    }
}
