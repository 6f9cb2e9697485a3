using System.Text.Json;
using Depot.Posix;
using Depot.Specs;

namespace Depot.InstallTree;

/// <summary>One record of a Spack install database.</summary>
/// <param name="Spec">The node (dependencies by hash).</param>
/// <param name="Path">Install prefix, or the external path; null when the record has none.</param>
/// <param name="Installed">False for records kept only because others depend on them.</param>
/// <param name="Explicit">Installed on request rather than as a dependency.</param>
/// <param name="RefCount">Dependents recorded in the database.</param>
public sealed record InstallRecord(SpecNode Spec, string? Path, bool Installed, bool Explicit, int RefCount);

/// <summary>
/// A Spack install tree's database, <c>&lt;root&gt;/.spack-db/index.json</c> (version 7 from Spack 0.21–0.23,
/// version 8 from 1.x), read under Spack's shared lock so a concurrent <c>spack install</c> cannot hand over a torn
/// file.
/// </summary>
public sealed class InstallDatabase
{
    private readonly Dictionary<string, InstallRecord> records;
    private string? recordedRoot;

    private InstallDatabase(string root, int version, Dictionary<string, InstallRecord> records)
    {
        Root = root;
        Version = version;
        this.records = records;
    }

    public string Root { get; }

    /// <summary>Database version: 7 (Spack 0.21–0.23) or 8 (Spack 1.x).</summary>
    public int Version { get; }

    public IReadOnlyCollection<InstallRecord> Records => records.Values;

    public InstallRecord? Find(string hash) => records.GetValueOrDefault(hash);

    /// <summary>
    /// The install root the records' paths were written under: <see cref="Root"/> itself, unless the tree was moved or
    /// copied since (then the prefixes' contents still name the old root, and pushes must describe them by it).
    /// </summary>
    public string RecordedRoot => recordedRoot ??= FindRecordedRoot();

    /// <summary>
    /// Where a record's prefix is on this machine: a path under <see cref="Root"/> as it is (records added since the
    /// tree was moved name its new root), one under <see cref="RecordedRoot"/> moved to <see cref="Root"/>.
    /// </summary>
    /// <exception cref="DepotException">The record has no path, or one outside both roots.</exception>
    public string LocalPrefix(InstallRecord record)
    {
        var path = record.Path ?? throw new DepotException(
            $"{IndexPath(Root)}: record {record.Spec.Hash} ({record.Spec.Name}) has no path");
        if (path.StartsWith(System.IO.Path.TrimEndingDirectorySeparator(Root) + "/", StringComparison.Ordinal))
        {
            return path;
        }

        var recorded = RecordedRoot;
        if (!path.StartsWith(recorded + "/", StringComparison.Ordinal))
        {
            throw new DepotException($"{IndexPath(Root)}: prefix {path} of {record.Spec.Name}/{record.Spec.Hash[..7]} "
                + $"is outside the install root {recorded}");
        }

        return Root + path[recorded.Length..];
    }

    private string FindRecordedRoot()
    {
        // Records under the local root say nothing of where the tree was before (a moved tree's database holds both
        // once something was installed into it since): the first record outside it does.
        var root = System.IO.Path.TrimEndingDirectorySeparator(Root);
        foreach (var record in records.Values.Where(r => r.Installed && !r.Spec.IsExternal && r.Path is not null
                     && !r.Path.StartsWith(root + "/", StringComparison.Ordinal)))
        {
            var path = record.Path!;

            // Longest ancestor whose remainder exists under the local root.
            for (var cut = path.LastIndexOf('/'); cut > 0; cut = path.LastIndexOf('/', cut - 1))
            {
                if (Directory.Exists(root + path[cut..]))
                {
                    return path[..cut];
                }
            }
        }

        return root;
    }

    public static string IndexPath(string root) => System.IO.Path.Combine(root, ".spack-db", "index.json");

    /// <exception cref="DepotException">No database, a malformed one, or the lock could not be had.</exception>
    public static async Task<InstallDatabase> ReadAsync(string root, TimeSpan? lockTimeout = null,
        CancellationToken cancellationToken = default)
    {
        var index = IndexPath(root);
        if (!File.Exists(index))
        {
            throw new DepotException(ErrorKind.NotFound, $"{root}: not a Spack install tree (no .spack-db/index.json)");
        }

        byte[] bytes;
        using (await PosixFileLock.AcquireAsync(System.IO.Path.Combine(root, ".spack-db", "lock"), exclusive: false,
                   lockTimeout ?? TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false))
        {
            bytes = await File.ReadAllBytesAsync(index, cancellationToken).ConfigureAwait(false);
        }

        return Parse(bytes, root, index);
    }

    /// <exception cref="InvalidContentException">Malformed JSON or an unsupported version.</exception>
    public static InstallDatabase Parse(byte[] json, string root, string location)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }

        var rootElement = doc.RootElement;
        if (rootElement.ValueKind != JsonValueKind.Object || !rootElement.TryGetProperty("database", out var db)
            || !db.TryGetProperty("installs", out var installs) || installs.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidContentException(location, "not a Spack install database: no 'database.installs'");
        }

        var versionText = db.TryGetProperty("version", out var v)
            ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()) : null;
        if (!int.TryParse(versionText, out var version) || version is < 7 or > 8)
        {
            throw new InvalidContentException(location,
                $"unsupported install database version '{versionText}' (Depot reads 7 and 8)");
        }

        var records = new Dictionary<string, InstallRecord>(StringComparer.Ordinal);
        foreach (var entry in installs.EnumerateObject())
        {
            var r = entry.Value;
            if (r.ValueKind != JsonValueKind.Object || !r.TryGetProperty("spec", out var spec))
            {
                throw new InvalidContentException(location, $"install record {entry.Name} has no 'spec'");
            }

            var path = r.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String
                && p.GetString() is { } s && s != "None" ? s : null;
            records[entry.Name] = new InstallRecord(SpecNode.Parse(spec, location), path,
                r.TryGetProperty("installed", out var i) && i.ValueKind == JsonValueKind.True,
                r.TryGetProperty("explicit", out var x) && x.ValueKind == JsonValueKind.True,
                r.TryGetProperty("ref_count", out var rc) && rc.TryGetInt32(out var n) ? n : 0);
        }

        return new InstallDatabase(root, version, records);
    }
}
