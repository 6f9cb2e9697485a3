using System.Buffers;
using System.Text.Json;
using Depot.Formats;
using Depot.Specs;

namespace Depot.Layout.Oci;

/// <summary>
/// The config blob of a spec's image: a runnable image config (Spack's default one, or the base image's) whose
/// <c>rootfs.diff_ids</c> gain the spec's layers and whose <c>Env</c> gains its search paths, with the spec file's keys
/// after it — compact JSON, as Spack writes it.
/// </summary>
internal static class OciImageConfig
{
    private static readonly string[] SpecKeys = ["spec", "buildcache_layout_version", "binary_cache_checksum",
        "archive_size", "archive_timestamp", "archive_compression"];

    /// <param name="root">The spec the image is for (its target gives the architecture).</param>
    /// <param name="spec">The spec file, for a cache entry; null for a tagged image of several specs (no spec keys
    /// then).</param>
    /// <param name="diffIds">sha256 of each of the spec's layers, uncompressed, in layer order.</param>
    /// <param name="paths">Search paths to prepend, by variable (PATH, CMAKE_PREFIX_PATH, …), in order.</param>
    /// <param name="tarball">The spec's own tarball layer: sha256 hex and size.</param>
    /// <param name="timestamp">When it was archived.</param>
    /// <param name="baseConfig">The base image's config, or null for Spack's default.</param>
    public static byte[] Write(SpecNode root, SpecFile? spec, IReadOnlyList<string> diffIds,
        IReadOnlyList<(string Variable, string Value)> paths,
        (string Hex, long Size) tarball, string timestamp, JsonElement? baseConfig)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new PythonJsonWriter(buffer);
        w.StartObject();
        var wroteRootfs = false;
        var wroteConfig = false;
        if (baseConfig is { ValueKind: JsonValueKind.Object } based)
        {
            foreach (var property in based.EnumerateObject().Where(p => !SpecKeys.Contains(p.Name)))
            {
                w.WritePropertyName(property.Name);
                switch (property.Name)
                {
                    case "rootfs":
                        WriteRootfs(w, property.Value, diffIds);
                        wroteRootfs = true;
                        break;
                    case "config":
                        WriteRuntime(w, property.Value, paths);
                        wroteConfig = true;
                        break;
                    default:
                        w.WriteElement(property.Value);
                        break;
                }
            }
        }
        else
        {
            w.WriteString("architecture", Architecture(root.Target));
            w.WriteString("os", root.Platform == "darwin" ? "darwin" : "linux");
        }

        if (!wroteRootfs)
        {
            w.WritePropertyName("rootfs");
            WriteRootfs(w, null, diffIds);
        }

        if (!wroteConfig)
        {
            w.WritePropertyName("config");
            WriteRuntime(w, null, paths);
        }

        if (spec is null)
        {
            w.EndObject();
            return buffer.WrittenSpan.ToArray();
        }

        w.WritePropertyName("spec");
        w.WriteElement(spec.Document.RootElement.GetProperty("spec"));
        w.WriteNumber("buildcache_layout_version", 3);
        w.WritePropertyName("binary_cache_checksum");
        w.StartObject();
        w.WriteString("hash_algorithm", "sha256");
        w.WriteString("hash", tarball.Hex);
        w.EndObject();
        w.WriteNumber("archive_size", tarball.Size);
        w.WriteString("archive_timestamp", timestamp);
        w.WriteString("archive_compression", "gzip");
        w.EndObject();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>OCI's name for a Spack target's family: amd64, arm64, ppc64le, riscv64.</summary>
    public static string Architecture(string target)
    {
        var t = target.ToLowerInvariant();
        return t switch
        {
            "aarch64" or "arm64" or "m1" or "m2" or "a64fx" or "thunderx2" or "cortex_a72" => "arm64",
            _ when t.StartsWith("neoverse", StringComparison.Ordinal)
                || t.StartsWith("graviton", StringComparison.Ordinal)
                    || t.StartsWith("armv8", StringComparison.Ordinal) => "arm64",
            _ when t.StartsWith("ppc64le", StringComparison.Ordinal)
                || t.StartsWith("power", StringComparison.Ordinal) => "ppc64le",
            _ when t.StartsWith("riscv64", StringComparison.Ordinal) || t.StartsWith("u74", StringComparison.Ordinal) =>
                "riscv64",
            _ => "amd64",
        };
    }

    private static void WriteRootfs(PythonJsonWriter w, JsonElement? base_, IReadOnlyList<string> diffIds)
    {
        w.StartObject();
        var wroteType = false;
        if (base_ is { ValueKind: JsonValueKind.Object } rootfs)
        {
            foreach (var property in rootfs.EnumerateObject())
            {
                if (property.Name == "diff_ids")
                {
                    continue;
                }

                w.WritePropertyName(property.Name);
                w.WriteElement(property.Value);
                wroteType |= property.Name == "type";
            }
        }

        if (!wroteType)
        {
            w.WriteString("type", "layers");
        }

        w.WritePropertyName("diff_ids");
        w.StartArray();
        if (base_ is { ValueKind: JsonValueKind.Object } existing && existing.TryGetProperty("diff_ids", out var old)
            && old.ValueKind == JsonValueKind.Array)
        {
            foreach (var id in old.EnumerateArray())
            {
                w.WriteElement(id);
            }
        }

        foreach (var id in diffIds)
        {
            w.WriteString(id);
        }

        w.EndArray();
        w.EndObject();
    }

    // The base image's environment (PATH=/bin:/usr/bin when it sets none), with the spec's search paths prepended.
    private static void WriteRuntime(PythonJsonWriter w, JsonElement? base_,
        IReadOnlyList<(string Variable, string Value)> paths)
    {
        var env = new List<KeyValuePair<string, string>> { new("PATH", "/bin:/usr/bin") };
        if (base_ is { ValueKind: JsonValueKind.Object } runtime && runtime.TryGetProperty("Env", out var list)
            && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in list.EnumerateArray().Select(e => e.GetString() ?? ""))
            {
                var eq = item.IndexOf('=', StringComparison.Ordinal);
                Set(env, eq < 0 ? item : item[..eq], eq < 0 ? "" : item[(eq + 1)..]);
            }
        }

        foreach (var (variable, value) in paths)
        {
            var at = env.FindIndex(p => p.Key == variable);
            Set(env, variable, at < 0 || env[at].Value.Length == 0 ? value : value + ":" + env[at].Value);
        }

        w.StartObject();
        var wroteEnv = false;
        if (base_ is { ValueKind: JsonValueKind.Object } existing)
        {
            foreach (var property in existing.EnumerateObject())
            {
                w.WritePropertyName(property.Name);
                if (property.Name == "Env")
                {
                    WriteEnv(w, env);
                    wroteEnv = true;
                }
                else
                {
                    w.WriteElement(property.Value);
                }
            }
        }

        if (!wroteEnv)
        {
            w.WritePropertyName("Env");
            WriteEnv(w, env);
        }

        w.EndObject();
    }

    private static void Set(List<KeyValuePair<string, string>> env, string name, string value)
    {
        var at = env.FindIndex(p => p.Key == name);
        if (at < 0)
        {
            env.Add(new(name, value));
        }
        else
        {
            env[at] = new(name, value);
        }
    }

    private static void WriteEnv(PythonJsonWriter w, List<KeyValuePair<string, string>> env)
    {
        w.StartArray();
        foreach (var (name, value) in env)
        {
            w.WriteString($"{name}={value}");
        }

        w.EndArray();
    }
}
