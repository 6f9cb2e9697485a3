using System.Globalization;
using System.Text.Json;
using Depot.Operations;
using Depot.Specs;

namespace Depot.Catalog;

/// <summary>
/// The catalog's JSON documents (the server's <c>/api/v1/…</c> answers, the static export's files), written with
/// <see cref="Utf8JsonWriter"/>. A spec is written with the fields and names of <c>depot list --json</c>, by the same
/// code (<see cref="WriteListedSpecFields"/>): name, version, hash, namespace, arch, compiler, variants (an object),
/// dependencies (<c>[{"name","hash","types"}]</c>), layout. Times are ISO 8601 UTC, sizes numbers of bytes.
/// </summary>
public static class CatalogJson
{
    /// <summary>Compact, default escaping (safe to embed in HTML).</summary>
    public static JsonWriterOptions Options { get; } = new() { Indented = false };

    /// <summary>One document as UTF-8 bytes.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// The fields of one spec as <c>depot list --json</c> prints them, inside an object the caller opened (it may add
    /// fields and closes it).
    /// </summary>
    public static void WriteListedSpecFields(Utf8JsonWriter w, CachedSpec spec)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(spec);
        var s = spec.Spec;
        WriteFields(w, s.Name, s.Version, s.Hash, s.Namespace, s.Architecture,
            SpecFormatter.CompilerLabel(s, spec.Resolve),
            s.Variants.Select(v => new VariantValue(v.Name, v.Values, v.IsBoolean, v.IsMultiValued)),
            s.Dependencies.Select(d => (d.Name, d.Hash, d.Types.ToString().ToLowerInvariant())), spec.LayoutVersion);
    }

    private static void WriteFields(Utf8JsonWriter w, string name, string version, string hash, string? ns,
        string arch, string compiler, IEnumerable<VariantValue> variants,
        IEnumerable<(string Name, string Hash, string Types)> dependencies, int layout)
    {
        w.WriteString("name", name);
        w.WriteString("version", version);
        w.WriteString("hash", hash);
        w.WriteString("namespace", ns);
        w.WriteString("arch", arch);
        w.WriteString("compiler", compiler);
        w.WriteStartObject("variants");
        foreach (var v in variants)
        {
            if (v.IsBoolean)
            {
                w.WriteBoolean(v.Name, v.Values is ["True"]);
            }
            else if (v.IsMultiValued)
            {
                w.WriteStartArray(v.Name);
                foreach (var value in v.Values)
                {
                    w.WriteStringValue(value);
                }

                w.WriteEndArray();
            }
            else
            {
                w.WriteString(v.Name, v.Values[0]);
            }
        }

        w.WriteEndObject();
        w.WriteStartArray("dependencies");
        foreach (var d in dependencies)
        {
            w.WriteStartObject();
            w.WriteString("name", d.Name);
            w.WriteString("hash", d.Hash);
            w.WriteString("types", d.Types);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteNumber("layout", layout);
    }

    /// <summary><c>[{"name","public","specs","packages","total_bytes","last_push","layouts"}]</c>.</summary>
    public static void WriteCaches(Utf8JsonWriter w, IEnumerable<CacheSummary> caches)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(caches);
        w.WriteStartArray();
        foreach (var c in caches)
        {
            w.WriteStartObject();
            w.WriteString("name", c.Name);
            w.WriteBoolean("public", c.Public);
            w.WriteNumber("specs", c.Specs);
            w.WriteNumber("packages", c.Packages);
            WriteNumber(w, "total_bytes", c.TotalBytes);
            WriteTime(w, "last_push", c.LastPush);
            w.WriteStartArray("layouts");
            foreach (var layout in c.Layouts)
            {
                w.WriteNumberValue(layout);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary><c>{"total","took_ms","specs":[row…],"facets":{"arch","os","compiler"}}</c>.</summary>
    public static void WriteSearch(Utf8JsonWriter w, SearchResult result)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(result);
        w.WriteStartObject();
        w.WriteNumber("total", result.Total);
        w.WriteNumber("took_ms", Math.Round(result.Took.TotalMilliseconds, 3));
        w.WriteStartArray("specs");
        foreach (var row in result.Rows)
        {
            WriteRow(w, row);
        }

        w.WriteEndArray();
        w.WriteStartObject("facets");
        WriteFacet(w, "arch", result.Architectures);
        WriteFacet(w, "os", result.Oses);
        WriteFacet(w, "compiler", result.Compilers);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteFacet(Utf8JsonWriter w, string name, IEnumerable<FacetValue> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStartObject();
            w.WriteString("value", v.Value);
            w.WriteNumber("count", v.Count);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>A search row: <c>{"name","version","hash","namespace","arch","platform","os","target","compiler",
    /// "variants","layout"}</c>, variants as Spack's text.</summary>
    public static void WriteRow(Utf8JsonWriter w, SpecRow row)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(row);
        w.WriteStartObject();
        w.WriteString("name", row.Name);
        w.WriteString("version", row.Version);
        w.WriteString("hash", row.Hash);
        w.WriteString("namespace", row.Namespace);
        w.WriteString("arch", row.Architecture);
        w.WriteString("platform", row.Platform);
        w.WriteString("os", row.Os);
        w.WriteString("target", row.Target);
        w.WriteString("compiler", row.Compiler);
        w.WriteString("variants", row.Variants);
        w.WriteNumber("layout", row.Layout);
        w.WriteEndObject();
    }

    /// <summary><c>{"total","packages":[{"name","specs","versions"}]}</c>.</summary>
    public static void WritePackages(Utf8JsonWriter w, PackageListing listing)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(listing);
        w.WriteStartObject();
        w.WriteNumber("total", listing.Total);
        w.WriteStartArray("packages");
        foreach (var p in listing.Packages)
        {
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteNumber("specs", p.Specs);
            w.WriteStartArray("versions");
            foreach (var v in p.Versions)
            {
                w.WriteStringValue(v);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary><c>{"name","specs":[row…]}</c>.</summary>
    public static void WritePackage(Utf8JsonWriter w, PackageDetail package)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(package);
        w.WriteStartObject();
        w.WriteString("name", package.Name);
        w.WriteStartArray("specs");
        foreach (var row in package.Specs)
        {
            WriteRow(w, row);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// The spec's <c>depot list --json</c> object plus <c>dependents</c>, <c>compressed_bytes</c>,
    /// <c>uncompressed_bytes</c>, <c>signature</c>, <c>pushed_at</c> and <c>install</c>.
    /// </summary>
    public static void WriteSpec(Utf8JsonWriter w, SpecDetail spec)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(spec);
        var row = spec.Row;
        w.WriteStartObject();
        WriteFields(w, row.Name, row.Version, row.Hash, row.Namespace.Length == 0 ? null : row.Namespace,
            row.Architecture, row.Compiler, spec.Variants,
            spec.Dependencies.Select(d => (d.Name, d.Hash, ListTypes(d.Types))), row.Layout);
        w.WriteStartArray("dependents");
        foreach (var d in spec.Dependents)
        {
            w.WriteStartObject();
            w.WriteString("name", d.Name);
            w.WriteString("version", d.Version);
            w.WriteString("hash", d.Hash);
            w.WriteString("types", ListTypes(d.Types));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        WriteNumber(w, "compressed_bytes", spec.CompressedBytes);
        WriteNumber(w, "uncompressed_bytes", spec.UncompressedBytes);
        w.WriteStartObject("signature");
        w.WriteString("state", spec.Signature.State.ToString().ToLowerInvariant());
        w.WriteString("fingerprint", spec.Signature.Fingerprint);
        w.WriteString("user_id", spec.Signature.UserId);
        WriteTime(w, "signed_at", spec.Signature.SignedAt);
        w.WriteEndObject();
        WriteTime(w, "pushed_at", spec.PushedAt);
        w.WriteStartObject("install");
        w.WriteString("mirror_url", spec.Install.MirrorUrl);
        w.WriteString("spack", spec.Install.Spack);
        w.WriteString("depot", spec.Install.Depot);
        w.WriteString("spack_yaml", spec.Install.SpackYaml);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    // The models say "build,link"; depot list --json says "build, link" (the flags' own text).
    private static string ListTypes(string types) => types.Replace(",", ", ", StringComparison.Ordinal);

    /// <summary><c>[{"fingerprint","user_id","created","download","trusted"}]</c>.</summary>
    public static void WriteKeys(Utf8JsonWriter w, IEnumerable<CatalogKey> keys)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(keys);
        w.WriteStartArray();
        foreach (var k in keys)
        {
            w.WriteStartObject();
            w.WriteString("fingerprint", k.Fingerprint);
            w.WriteString("user_id", k.UserId);
            WriteTime(w, "created", k.Created);
            w.WriteString("download", k.Download);
            w.WriteBoolean("trusted", k.Trusted);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary><c>[{"name","version","hash","pushed_at"}]</c>.</summary>
    public static void WriteActivity(Utf8JsonWriter w, IEnumerable<PushActivity> activity)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(activity);
        w.WriteStartArray();
        foreach (var a in activity)
        {
            w.WriteStartObject();
            w.WriteString("name", a.Name);
            w.WriteString("version", a.Version);
            w.WriteString("hash", a.Hash);
            WriteTime(w, "pushed_at", a.PushedAt);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>
    /// The static export's compact search index:
    /// <c>{"fields":["hash","name","version","arch","compiler","variants"],"rows":[[…],…]}</c>.
    /// </summary>
    public static void WriteSearchIndex(Utf8JsonWriter w, IEnumerable<SpecRow> rows)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(rows);
        w.WriteStartObject();
        w.WriteStartArray("fields");
        foreach (var f in (string[])["hash", "name", "version", "arch", "compiler", "variants"])
        {
            w.WriteStringValue(f);
        }

        w.WriteEndArray();
        w.WriteStartArray("rows");
        foreach (var r in rows)
        {
            w.WriteStartArray();
            w.WriteStringValue(r.Hash);
            w.WriteStringValue(r.Name);
            w.WriteStringValue(r.Version);
            w.WriteStringValue(r.Architecture);
            w.WriteStringValue(r.Compiler);
            w.WriteStringValue(r.Variants);
            w.WriteEndArray();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A time as ISO 8601 UTC (<c>2026-12-06T19:44:45Z</c>).</summary>
    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void WriteTime(Utf8JsonWriter w, string name, DateTimeOffset? time)
    {
        if (time is { } t)
        {
            w.WriteString(name, Time(t));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNumber(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
