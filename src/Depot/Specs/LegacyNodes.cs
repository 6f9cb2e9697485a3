using System.Text.Json;
using Depot.Formats;

namespace Depot.Specs;

/// <summary>
/// Nodes of spec format 4 and older (Spack 0.21 to 0.23) as a database of version 8 (Spack 1.x's index) must hold
/// them: Spack 1.x reads such a database with its format-5 reader, which refuses a node's <c>compiler</c> attribute.
/// It writes the node without it and records the compiler in <c>annotations</c> instead:
/// <c>{"original_specfile_version": 4, "compiler": "gcc@=12.2.0"}</c> (what it writes when it migrates a cache). The
/// node's DAG hash is the one it was built with, stored beside it.
/// </summary>
public static class LegacyNodes
{
    /// <summary>The spec format the nodes of Spack 0.21 to 0.23 were written in.</summary>
    public const int LegacyFormat = 4;

    /// <summary>True when <paramref name="node"/> carries a <c>compiler</c> attribute and no annotations.</summary>
    public static bool NeedsAnnotations(JsonElement node) =>
        node.ValueKind == JsonValueKind.Object && node.TryGetProperty("compiler", out _)
        && !node.TryGetProperty("annotations", out _);

    /// <summary>
    /// Writes <paramref name="node"/> as a format-5 reader takes it: every property but <c>compiler</c>, in order,
    /// with <c>annotations</c> before the trailing <c>hash</c> (where Spack puts them).
    /// </summary>
    public static void WriteAnnotated(PythonJsonWriter writer, JsonElement node)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var compiler = CompilerText(node.GetProperty("compiler"));
        writer.StartObject();
        var annotated = false;
        foreach (var property in node.EnumerateObject())
        {
            if (property.NameEquals("compiler"))
            {
                continue;
            }

            if (property.NameEquals("hash") && !annotated)
            {
                WriteAnnotations(writer, compiler);
                annotated = true;
            }

            writer.WritePropertyName(property.Name);
            writer.WriteElement(property.Value);
        }

        if (!annotated)
        {
            WriteAnnotations(writer, compiler);
        }

        writer.EndObject();
    }

    /// <summary>The compiler an annotated node records (<c>gcc@=12.2.0</c>), as a name and version, or null.</summary>
    public static NodeCompiler? AnnotatedCompiler(JsonElement node)
    {
        if (!node.TryGetProperty("annotations", out var annotations) || annotations.ValueKind != JsonValueKind.Object
            || !annotations.TryGetProperty("compiler", out var text) || text.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var value = text.GetString()!;
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? new NodeCompiler(value, "") : new NodeCompiler(value[..at], value[(at + 1)..].TrimStart('='));
    }

    private static void WriteAnnotations(PythonJsonWriter writer, string? compiler)
    {
        writer.WritePropertyName("annotations");
        writer.StartObject();
        writer.WriteNumber("original_specfile_version", LegacyFormat);
        if (compiler is not null)
        {
            writer.WriteString("compiler", compiler);
        }

        writer.EndObject();
    }

    // Spack's own rendering of the attribute: name@=version (a concrete version), or name@v1,v2 for a list.
    private static string? CompilerText(JsonElement compiler)
    {
        if (compiler.ValueKind != JsonValueKind.Object || !compiler.TryGetProperty("name", out var name)
            || name.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        if (compiler.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String)
        {
            return $"{name.GetString()}@={version.GetString()}";
        }

        if (compiler.TryGetProperty("versions", out var versions) && versions.ValueKind == JsonValueKind.Array)
        {
            var list = versions.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String)
                .Select(v => v.GetString()!).ToList();
            return list.Count == 0 ? name.GetString() : $"{name.GetString()}@{string.Join(',', list)}";
        }

        return name.GetString();
    }
}
