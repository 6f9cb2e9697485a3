using System.Text;
using Depot.Configuration;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>One line of a listing: what <c>depot list</c> prints for a cached spec.</summary>
public sealed record ListingRow(string Hash, string Name, string Version, string Namespace, string Architecture,
    string CompilerLabel, string VariantsText, int LayoutVersion)
{
    public static ListingRow From(SpecNode node, Func<string, SpecNode?> resolve, int layoutVersion) =>
        new(node.Hash, node.Name, node.Version, node.Namespace ?? "", node.Architecture,
            SpecFormatter.CompilerLabel(node, resolve),
            SpecFormatter.WithVariants(node, node.Compiler is null), layoutVersion);

    public string Short => Version.Length > 0 ? $"{Name}@{Version}" : Name;
}

/// <summary>
/// Local state about build cache indexes under <c>$DEPOT_HOME/cache/indexes</c>: listing summaries (<c>.tsv</c>) and
/// record tables (<c>.table</c>, see <see cref="Layout.IndexSnapshot"/>). Listing a cache of 20,000 specs then reads a
/// small file instead of parsing a 30 MB index. Failures to read or write the cache are never errors: the index is
/// always there to fall back to.
/// <para>
/// A key is the mirror (a digest of its root URL or path), the layout, and the sha256 of the index bytes the entry was
/// built from (<see cref="ChecksumOfRead"/>): the v3/OCI blob digest, which the layout checks as it reads the blob,
/// or for v2 the sha256 computed over <c>index.json</c> as read, never the <c>index.json.hash</c> it claims. A warm
/// lookup goes by what the mirror claims now (the manifest's digest, <c>index.json.hash</c>), which can find only an
/// entry built from bytes of that very sha256 read from that very mirror: another mirror carrying the same claim
/// cannot reach it. What remains: a mirror can lie about its own index (a v2 <c>index.json</c> changed under an old
/// <c>index.json.hash</c> lists as before) — as unsigned as the index itself; installing checks every entry anyway.
/// </para>
/// </summary>
public sealed class IndexCache
{
    private const string Header = "depot-listing 1";
    private const int Keep = 64;
    private readonly string folder;

    public IndexCache(string folder) => this.folder = folder;

    public static IndexCache For(DepotHome home) => new(Path.Combine(home.Path, "cache", "indexes"));

    /// <summary>The key of what was built from index bytes with sha256 <paramref name="indexChecksum"/> read from
    /// <paramref name="store"/>.</summary>
    public static string Key(Storage.IStoreReader store, int layoutVersion, string indexChecksum)
    {
        var mirror = Convert.ToHexStringLower(
            System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(store.Root)))[..16];
        return $"{mirror}-v{layoutVersion}-{indexChecksum}";
    }

    /// <summary>
    /// The sha256 of the index bytes just read (<paramref name="json"/>): for v2 computed over them (what
    /// <c>index.json.hash</c> claims does not count); for v3 and OCI the blob digest <paramref name="claimed"/>, which
    /// the layout checked while reading the blob, when the mirror still names that blob (else null: nothing to key by).
    /// </summary>
    public static async Task<string?> ChecksumOfRead(Layout.IBuildCacheLayout layout, string? claimed, byte[] json,
        CancellationToken cancellationToken)
    {
        if (layout is Layout.BuildCacheV2)
        {
            return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(json));
        }

        if (claimed is null)
        {
            return null;
        }

        // The blob read was the one the manifest named at that moment; make sure it is still the one claimed.
        return await layout.ReadIndexChecksumAsync(cancellationToken).ConfigureAwait(false) == claimed ? claimed : null;
    }

    public bool Has(string key) => File.Exists(PathOf(key));

    public IReadOnlyList<ListingRow>? TryRead(string key)
    {
        try
        {
            var path = PathOf(key);
            if (!File.Exists(path))
            {
                return null;
            }

            var rows = new List<ListingRow>();
            using var reader = new StreamReader(path, Encoding.UTF8, false, 1 << 16);
            if (reader.ReadLine() != Header)
            {
                return null;
            }

            // Namespaces, architectures, compiler labels and versions repeat across a cache of 200,000 specs: each
            // distinct text is one string.
            var shared = new HashSet<string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
            string Text(ReadOnlySpan<char> field, bool share)
            {
                if (field.Contains('\\'))
                {
                    return Unescape(field.ToString());
                }

                if (!share)
                {
                    return field.ToString();
                }

                if (!shared.TryGetValue(field, out var text))
                {
                    text = field.ToString();
                    shared.Set.Add(text);
                }

                return text;
            }

            string? line;
            Span<Range> f = stackalloc Range[9];
            while ((line = reader.ReadLine()) is not null)
            {
                var span = line.AsSpan();
                if (span.Split(f, '\t') != 8 || !int.TryParse(span[f[7]], out var layout))
                {
                    return null;
                }

                rows.Add(new ListingRow(span[f[0]].ToString(), Text(span[f[1]], true), Text(span[f[2]], true),
                    Text(span[f[3]], true), Text(span[f[4]], true), Text(span[f[5]], true), Text(span[f[6]], false),
                    layout));
            }

            return rows;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Write(string key, IEnumerable<ListingRow> rows) => Save(key, null, rows);

    /// <summary>A new summary made of an existing one plus rows (nothing removed): the old rows are copied as
    /// bytes.</summary>
    public void Extend(string fromKey, string key, IEnumerable<ListingRow> added) => Save(key, fromKey, added);

    private void Save(string key, string? fromKey, IEnumerable<ListingRow> rows)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var path = PathOf(key);
            var temp = path + ".tmp-" + Environment.ProcessId;
            if (fromKey is not null)
            {
                File.Copy(PathOf(fromKey), temp, overwrite: true);
            }

            using (var writer = new StreamWriter(temp, append: fromKey is not null, new UTF8Encoding(false), 1 << 16))
            {
                if (fromKey is null)
                {
                    writer.Write(Header + "\n");
                }

                foreach (var r in rows)
                {
                    writer.Write($"{r.Hash}\t{Escape(r.Name)}\t{Escape(r.Version)}\t{Escape(r.Namespace)}\t"
                        + $"{Escape(r.Architecture)}\t{Escape(r.CompilerLabel)}\t{Escape(r.VariantsText)}\t"
                        + $"{r.LayoutVersion}\n");
                }
            }

            File.Move(temp, path, overwrite: true);
            Prune();
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private string PathOf(string key) => Path.Combine(folder, key + ".tsv");

    /// <summary>The record table of an index (see <see cref="Layout.IndexSnapshot.SaveTable"/>), or null.</summary>
    public Layout.IndexSnapshot? TryReadSnapshot(string key, byte[] json, string location) =>
        TryReadTable(key, location)?.Bind(json);

    /// <summary>The record table saved under <paramref name="key"/>, not yet bound to its index JSON (see
    /// <see cref="Layout.IndexSnapshot.Bind"/>), or null.</summary>
    public Layout.IndexSnapshot? TryReadTable(string key, string location)
    {
        try
        {
            var path = Path.Combine(folder, key + ".table");
            if (!File.Exists(path))
            {
                return null;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return Layout.IndexSnapshot.LoadTable(stream, location);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void WriteSnapshot(string key, Layout.IndexSnapshot snapshot)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, key + ".table");
            var temp = path + ".tmp-" + Environment.ProcessId;
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                snapshot.SaveTable(stream);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void Prune()
    {
        var files = new DirectoryInfo(folder).GetFiles("*.*").Where(f => f.Extension is ".tsv" or ".table")
            .OrderByDescending(f => f.LastWriteTimeUtc).Skip(Keep);
        foreach (var f in files)
        {
            f.Delete();
        }
    }

    private static string Escape(string s) => s.AsSpan().IndexOfAny("\\\t\n\r") < 0 ? s :
        s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);

    private static string Unescape(string s)
    {
        if (!s.Contains('\\', StringComparison.Ordinal))
        {
            return s;
        }

        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                i++;
                sb.Append(s[i] switch { 't' => '\t', 'n' => '\n', 'r' => '\r', _ => s[i] });
            }
            else
            {
                sb.Append(s[i]);
            }
        }

        return sb.ToString();
    }
}
