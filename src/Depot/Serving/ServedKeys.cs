using System.Text.RegularExpressions;
using Depot.Sources;
using Depot.Storage;

namespace Depot.Serving;

/// <summary>How long a client may keep a served object without asking again.</summary>
public enum Freshness
{
    /// <summary>Content-addressed (<c>blobs/sha256/…</c>, a source mirror's <c>_source-cache/archive/…</c>): the key
    /// names the bytes, they never change.</summary>
    Immutable,

    /// <summary>Indexes and their hashes: they change with every push, so a client revalidates each time (cheap with
    /// its ETag).</summary>
    Revalidate,

    /// <summary>Manifests, spec files, tarballs and keys: replaced only by a forced push or a key change.</summary>
    Short,
}

/// <summary>
/// What the server knows of a key from its name alone, across Spack's layouts: whether it names its bytes (and their
/// digest, the strongest ETag), how fresh a copy must be, and the content type.
/// </summary>
public static partial class ServedKeys
{
    /// <summary>The sha256 (lowercase hex) a content-addressed key names, or null.</summary>
    public static string? Digest(string key)
    {
        var match = BlobKey().Match(key);
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>How long a copy of <paramref name="key"/> stays fresh.</summary>
    public static Freshness FreshnessOf(string key)
    {
        if (Digest(key) is not null || IsSourceArchive(key))
        {
            return Freshness.Immutable;
        }

        var name = key[(key.LastIndexOf('/') + 1)..];
        return name.StartsWith("index.", StringComparison.Ordinal) || key.Contains("/index/", StringComparison.Ordinal)
            ? Freshness.Revalidate : Freshness.Short;
    }

    /// <summary>An archive of a source mirror, named by its checksum.</summary>
    private static bool IsSourceArchive(string key) =>
        key.StartsWith(SourceMirror.ArchivePrefix, StringComparison.Ordinal)
        && SourceMirror.Describe(new StoreObject(key, 0)).IsCheckable;

    /// <summary>The content type to serve <paramref name="key"/> with.</summary>
    public static string ContentType(string key) =>
        key.EndsWith(".json", StringComparison.Ordinal) ? "application/json"
        : key.EndsWith(".sig", StringComparison.Ordinal) || key.EndsWith(".hash", StringComparison.Ordinal)
            || key.EndsWith(".pub", StringComparison.Ordinal) ? "text/plain; charset=utf-8"
        : "application/octet-stream";

    [GeneratedRegex("^(?:.+/)?blobs/sha256/[0-9a-f]{2}/([0-9a-f]{64})$")]
    private static partial Regex BlobKey();
}
