using System.Text.Json;

namespace Depot.Specs;

/// <summary>A variant value as Spack stores it in <c>parameters</c>.</summary>
/// <param name="Name">Variant name.</param>
/// <param name="Values">Values; a boolean variant has one value, <c>True</c> or <c>False</c>.</param>
/// <param name="IsBoolean">True for <c>+name</c>/<c>~name</c> variants.</param>
/// <param name="IsMultiValued">True when stored as a JSON list.</param>
public sealed record Variant(string Name, IReadOnlyList<string> Values, bool IsBoolean, bool IsMultiValued)
{
    public bool BooleanValue => IsBoolean && Values.Count == 1 && Values[0] == "True";
}

/// <summary>Compiler recorded as a node attribute (spec format 4 and older).</summary>
public sealed record NodeCompiler(string Name, string Version);

/// <summary>
/// One node of a concrete spec DAG, read from a spec file, a spec blob or an index record. The parsed fields serve
/// display and queries; <see cref="Json"/> keeps the node exactly as stored so it can be re-emitted byte-for-byte
/// (the stored key order is part of the hash input).
/// </summary>
public sealed partial class SpecNode
{
    /// <summary>The compiler-flag keys of <c>parameters</c>; every other key is a variant.</summary>
    public static readonly IReadOnlySet<string> FlagNames =
        new HashSet<string> { "cflags", "cppflags", "cxxflags", "fflags", "ldflags", "ldlibs" };

    private readonly string location;
    private readonly JsonElement json;
    private IReadOnlyList<DependencyEdge>? dependencies;
    private NodeFields? fields;
    private NodeParameters? parameters;

    private SpecNode(JsonElement json, string name, string hash, string location)
    {
        this.json = json;
        Name = name;
        Hash = hash;
        this.location = location;
    }

    // Most nodes read while indexing are never displayed: their fields are parsed on first use only.
    private NodeFields Fields => fields ??= Lazily(() => NodeFields.Read(Json));

    /// <summary>The node as stored (parsed on first use for a node read from compact text).</summary>
    public JsonElement Json => compactText is null ? json : (document ??= ParseCompactText()).RootElement;

    public string Name { get; }

    public string Hash { get; }

    public string Version => Fields.Version;

    public string? Namespace => Fields.Namespace;

    public string Platform => Fields.Platform;

    public string PlatformOs => Fields.PlatformOs;

    /// <summary>Target name: the string itself, or <c>target.name</c> for a vendor-specific
    /// microarchitecture.</summary>
    public string Target => Fields.Target;

    public NodeCompiler? Compiler => Fields.Compiler;

    public IReadOnlyList<Variant> Variants => Parameters.Variants;

    /// <summary>Compiler flags that are set (non-empty lists), by flag name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Flags => Parameters.Flags;

    public bool IsExternal => Fields.IsExternal;

    public string? ExternalPath => Fields.ExternalPath;

    /// <summary>Dependency edges, in stored order.</summary>
    /// <exception cref="InvalidContentException">An edge is malformed (first access only).</exception>
    public IReadOnlyList<DependencyEdge> Dependencies =>
        dependencies ??= Lazily(() => ReadDependencies(Json, Name, location));

    private NodeParameters Parameters => parameters ??= Lazily(() => NodeParameters.Read(Json));

    /// <summary><c>platform-os-target</c>, as Spack prints an architecture.</summary>
    public string Architecture => $"{Platform}-{PlatformOs}-{Target}";

    // Fields are read on first use, long after the file was parsed: a string that is not valid UTF-8 (which the JSON
    // parser lets through until it is read) must still be refused as the file's fault, naming it.
    private T Lazily<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException e) when (e is not ObjectDisposedException)
        {
            throw new InvalidContentException(location, $"spec '{Name}': malformed JSON: " + e.Message);
        }
    }

    /// <summary>
    /// Reads a node object. <paramref name="location"/> names the file for error messages.
    /// </summary>
    /// <exception cref="InvalidContentException">A required field is missing or has the wrong type.</exception>
    public static SpecNode Parse(JsonElement json, string location) => Parse(json, location, compactSource: false);

    /// <param name="json">The node object.</param>
    /// <param name="location">File or URL, for messages.</param>
    /// <param name="compactSource">The element was parsed from Spack-style compact, ASCII-only text.</param>
    internal static SpecNode Parse(JsonElement json, string location, bool compactSource)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidContentException(location, "spec node is not a JSON object");
        }

        var name = RequiredString(json, "name", location, "spec node");
        var hash = OptionalString(json, "hash") ?? OptionalString(json, "full_hash")
            ?? OptionalString(json, "build_hash")
            ?? throw new InvalidContentException(location, $"spec node '{name}' has no 'hash'");
        return new SpecNode(json, name, hash, location) { IsCompactSource = compactSource };
    }

    /// <summary>Reads a spec format 1 node: <c>{"name": {...}}</c> with dependencies keyed by name.</summary>
    internal static SpecNode ParseV1(string name, JsonElement body, string location)
    {
        var hash = OptionalString(body, "hash") ?? OptionalString(body, "full_hash")
            ?? throw new InvalidContentException(location, $"spec node '{name}' has no 'hash'");
        return Build(body, name, hash, location);
    }

    private static SpecNode Build(JsonElement json, string name, string hash, string location) =>
        new(json, name, hash, location);

    /// <summary>The display and query fields of a node, read together on first use.</summary>
    private sealed record NodeFields(string Version, string? Namespace, string Platform, string PlatformOs,
        string Target, NodeCompiler? Compiler, bool IsExternal, string? ExternalPath)
    {
        public static NodeFields Read(JsonElement json)
        {
            string platform = "", os = "", target = "";
            if (json.TryGetProperty("arch", out var arch) && arch.ValueKind == JsonValueKind.Object)
            {
                platform = OptionalString(arch, "platform") ?? "";
                os = OptionalString(arch, "platform_os") ?? "";
                if (arch.TryGetProperty("target", out var t))
                {
                    target = t.ValueKind == JsonValueKind.Object ? OptionalString(t, "name") ?? ""
                        : t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                }
            }

            NodeCompiler? compiler = null;
            if (json.TryGetProperty("compiler", out var comp) && comp.ValueKind == JsonValueKind.Object)
            {
                compiler = new NodeCompiler(OptionalString(comp, "name") ?? "", OptionalString(comp, "version") ?? "");
            }
            else
            {
                compiler = LegacyNodes.AnnotatedCompiler(json); // a format-4 node as Spack 1.x's index holds it
            }

            var isExternal = false;
            string? externalPath = null;
            if (json.TryGetProperty("external", out var external) && external.ValueKind == JsonValueKind.Object)
            {
                isExternal = true;
                externalPath = OptionalString(external, "path");
            }

            return new NodeFields(OptionalString(json, "version") ?? "", OptionalString(json, "namespace"), platform,
                os, target, compiler, isExternal, externalPath);
        }
    }

    /// <summary>Variants and compiler flags, read on first use (listing without <c>-v</c> never needs them).</summary>
    private sealed record NodeParameters(IReadOnlyList<Variant> Variants,
        IReadOnlyDictionary<string, IReadOnlyList<string>> Flags)
    {
        public static NodeParameters Read(JsonElement json)
        {
            var variants = new List<Variant>();
            var flags = new Dictionary<string, IReadOnlyList<string>>();
            if (json.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in parameters.EnumerateObject())
                {
                    if (FlagNames.Contains(p.Name))
                    {
                        var values = StringList(p.Value);
                        if (values.Count > 0)
                        {
                            flags[p.Name] = values;
                        }

                        continue;
                    }

                    variants.Add(p.Value.ValueKind switch
                    {
                        JsonValueKind.True => new Variant(p.Name, ["True"], true, false),
                        JsonValueKind.False => new Variant(p.Name, ["False"], true, false),
                        JsonValueKind.Array => new Variant(p.Name, StringList(p.Value), false, true),
                        JsonValueKind.String => new Variant(p.Name, [p.Value.GetString()!], false, false),
                        _ => new Variant(p.Name, [p.Value.GetRawText()], false, false),
                    });
                }
            }

            return new NodeParameters(variants, flags);
        }
    }

    /// <summary>
    /// True when <see cref="Json"/> was parsed from text already in Spack's compact, ASCII-escaped JSON (a spec blob
    /// as Spack 1.x writes it): its raw bytes can then be copied into an index instead of being re-serialised.
    /// </summary>
    internal bool IsCompactSource { get; init; }

    /// <summary>A node over the same JSON that shares none of this one's parsed fields: what is read from it is
    /// dropped with it.</summary>
    internal SpecNode Unshared() => compactText is not null ? new SpecNode(compactText, Name, Hash, location)
        : new SpecNode(Json, Name, Hash, location) { IsCompactSource = IsCompactSource };

    /// <summary>(name, hash) of each dependency edge, read cheaply; malformed edges are skipped (parsing them fully
    /// reports them).</summary>
    internal static IEnumerable<(string Name, string Hash)> DependencyHashes(JsonElement json)
    {
        if (!json.TryGetProperty("dependencies", out var deps))
        {
            yield break;
        }

        if (deps.ValueKind == JsonValueKind.Array)
        {
            foreach (var d in deps.EnumerateArray())
            {
                if (OptionalString(d, "hash") is { } hash)
                {
                    yield return (OptionalString(d, "name") ?? "?", hash);
                }
            }
        }
        else if (deps.ValueKind == JsonValueKind.Object)
        {
            foreach (var d in deps.EnumerateObject())
            {
                if (OptionalString(d.Value, "hash") is { } hash)
                {
                    yield return (d.Name, hash);
                }
            }
        }
    }

    private static List<DependencyEdge> ReadDependencies(JsonElement json, string name, string location)
    {
        var edges = new List<DependencyEdge>();
        if (!json.TryGetProperty("dependencies", out var deps))
        {
            return edges;
        }

        if (deps.ValueKind == JsonValueKind.Object)
        {
            // Spec format 1: {"depname": {"hash": ..., "type": [...]}}
            foreach (var d in deps.EnumerateObject())
            {
                edges.Add(ReadEdge(d.Name, d.Value, name, location));
            }

            return edges;
        }

        if (deps.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidContentException(location, $"'dependencies' of '{name}' is neither a list nor an object");
        }

        foreach (var d in deps.EnumerateArray())
        {
            var depName = RequiredString(d, "name", location, $"a dependency of '{name}'");
            edges.Add(ReadEdge(depName, d, name, location));
        }

        return edges;
    }

    private static DependencyEdge ReadEdge(string depName, JsonElement d, string parent, string location)
    {
        if (d.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidContentException(location, $"dependency '{depName}' of '{parent}' is not a JSON object");
        }

        // Readers try these keys in this order (Spack's SpecfileV2.read_specfile_dep_specs).
        var hash = OptionalString(d, "hash") ?? OptionalString(d, "package_hash") ?? OptionalString(d, "full_hash")
            ?? OptionalString(d, "build_hash")
            ?? throw new InvalidContentException(location, $"dependency '{depName}' of '{parent}' has no 'hash'");
        var types = DepTypes.None;
        IReadOnlyList<string> virtuals = [];
        var direct = false;
        if (d.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            if (p.TryGetProperty("deptypes", out var dt))
            {
                types = ParseTypes(dt);
            }

            if (p.TryGetProperty("virtuals", out var v))
            {
                virtuals = StringList(v);
            }

            direct = p.TryGetProperty("direct", out var dir) && dir.ValueKind == JsonValueKind.True;
        }
        else if (d.TryGetProperty("type", out var type))
        {
            types = ParseTypes(type);
        }

        return new DependencyEdge(depName, hash, types, virtuals, direct);
    }

    private static DepTypes ParseTypes(JsonElement value)
    {
        var types = DepTypes.None;
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var t in value.EnumerateArray())
            {
                if (t.ValueKind == JsonValueKind.String)
                {
                    types |= DependencyEdge.ParseType(t.GetString()!);
                }
            }
        }
        else if (value.ValueKind == JsonValueKind.String)
        {
            types = DependencyEdge.ParseType(value.GetString()!);
        }

        return types;
    }

    private static List<string> StringList(JsonElement value)
    {
        var list = new List<string>();
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText());
            }
        }

        return list;
    }

    internal static string? OptionalString(JsonElement obj, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out var v)
            && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    internal static string RequiredString(JsonElement obj, string key, string location, string what) =>
        OptionalString(obj, key) ?? throw new InvalidContentException(location, $"{what} has no string field '{key}'");

    public override string ToString() => SpecFormatter.Short(this);
}
