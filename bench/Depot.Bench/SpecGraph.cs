using System.Buffers;
using System.Text.Json;
using Depot.Formats;
using Depot.Specs;

namespace Depot.Bench;

/// <summary>One dependency edge as Spack 1.x writes it (<c>parameters.deptypes</c>, <c>virtuals</c>, optional
/// <c>direct</c>).</summary>
internal sealed record Edge(int NodeId, string[] Types, string[] Virtuals, bool Direct = false);

/// <summary>An external's <c>external</c> object: path and, for compilers, <c>extra_attributes.compilers</c>.</summary>
internal sealed record ExternalInfo(string Path, (string Lang, string Exe)[] Compilers);

/// <summary>A node before hashing, in the fields of Spack's <c>Spec.to_node_dict</c>.</summary>
internal sealed class NodeDraft
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public required string Os { get; init; }

    public required TargetInfo Target { get; init; }

    public string Namespace { get; init; } = "builtin";

    /// <summary>Variants, sorted by name: values are bool, string or string[].</summary>
    public List<(string Name, object Value)> Variants { get; } = [];

    /// <summary>Compiler flags that are set; the other flag keys are written as empty lists.</summary>
    public Dictionary<string, string[]> Flags { get; } = new(StringComparer.Ordinal);

    public ExternalInfo? External { get; init; }

    public string[]? Patches { get; set; }

    public List<Edge> Dependencies { get; } = [];
}

/// <summary>A hashed node of the generated graph.</summary>
internal sealed class GraphNode
{
    public required int Id { get; init; }

    public required string Name { get; init; }

    public required int NameId { get; init; }

    public required string Version { get; init; }

    public required string Hash { get; init; }

    public required string Os { get; init; }

    public required string Target { get; init; }

    /// <summary>The node's compact JSON, <c>hash</c> last, exactly as it goes into spec blobs.</summary>
    public required byte[] Json { get; init; }

    public required int[] Dependencies { get; init; }

    /// <summary>Every node reachable from this one, itself included (ids, ascending).</summary>
    public required int[] Closure { get; init; }

    /// <summary>True when the closure holds at most one node per package name (Spack's unified DAGs).</summary>
    public required bool Unified { get; init; }

    public bool IsExternal { get; init; }
}

/// <summary>
/// The node store of one generator run: hashes nodes bottom-up with <see cref="DagHash"/>, de-duplicates by hash and
/// keeps each node's closure, so new specs can depend on earlier ones without breaking name uniqueness.
/// </summary>
internal sealed class SpecGraph
{
    private static readonly byte[] HashKey = ",\"hash\":\""u8.ToArray();

    private readonly Dictionary<string, int> nameIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> byHash = new(StringComparer.Ordinal);

    public List<GraphNode> Nodes { get; } = [];

    public GraphNode this[int id] => Nodes[id];

    public int NameId(string name)
    {
        if (!nameIds.TryGetValue(name, out var id))
        {
            id = nameIds.Count;
            nameIds[name] = id;
        }

        return id;
    }

    public bool ContainsHash(string hash) => byHash.ContainsKey(hash);

    public int? FindByHash(string hash) => byHash.TryGetValue(hash, out var id) ? id : null;

    /// <summary>Serialises the draft in Spack's key order without <c>hash</c>.</summary>
    public byte[] Serialize(NodeDraft d)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        var w = new PythonJsonWriter(buffer);
        w.StartObject();
        w.WriteString("name", d.Name);
        w.WriteString("version", d.Version);
        w.WritePropertyName("arch");
        w.StartObject();
        w.WriteString("platform", Catalog.Platform);
        w.WriteString("platform_os", d.Os);
        w.WritePropertyName("target");
        WriteTarget(w, d.Target);
        w.EndObject();
        w.WriteString("namespace", d.Namespace);
        w.WritePropertyName("parameters");
        w.StartObject();
        foreach (var (name, value) in d.Variants)
        {
            w.WritePropertyName(name);
            switch (value)
            {
                case bool b:
                    w.WriteBoolean(b);
                    break;
                case string s:
                    w.WriteString(s);
                    break;
                case string[] list:
                    WriteStrings(w, list);
                    break;
                default:
                    throw new InvalidOperationException("unsupported variant value " + value);
            }
        }

        foreach (var flag in Catalog.FlagNames)
        {
            w.WritePropertyName(flag);
            WriteStrings(w, d.Flags.GetValueOrDefault(flag) ?? []);
        }

        w.EndObject();
        if (d.External is { } ext)
        {
            w.WritePropertyName("external");
            w.StartObject();
            w.WriteString("path", ext.Path);
            w.WritePropertyName("module");
            w.WriteNull();
            w.WritePropertyName("extra_attributes");
            w.StartObject();
            if (ext.Compilers.Length > 0)
            {
                w.WritePropertyName("compilers");
                w.StartObject();
                foreach (var (lang, exe) in ext.Compilers.OrderBy(c => c.Lang, StringComparer.Ordinal))
                {
                    w.WriteString(lang, exe);
                }

                w.EndObject();
            }

            w.EndObject();
            w.EndObject();
        }

        if (d.Patches is { Length: > 0 } patches)
        {
            w.WritePropertyName("patches");
            WriteStrings(w, patches);
        }

        w.WriteString("package_hash", Catalog.PackageHash(d.Name, d.Version));
        if (d.Dependencies.Count > 0)
        {
            w.WritePropertyName("dependencies");
            w.StartArray();
            foreach (var e in d.Dependencies.OrderBy(e => Nodes[e.NodeId].Name, StringComparer.Ordinal))
            {
                w.StartObject();
                w.WriteString("name", Nodes[e.NodeId].Name);
                w.WriteString("hash", Nodes[e.NodeId].Hash);
                w.WritePropertyName("parameters");
                w.StartObject();
                w.WritePropertyName("deptypes");
                WriteStrings(w, e.Types);
                w.WritePropertyName("virtuals");
                WriteStrings(w, e.Virtuals);
                if (e.Direct)
                {
                    w.WritePropertyName("direct");
                    w.WriteBoolean(true);
                }

                w.EndObject();
                w.EndObject();
            }

            w.EndArray();
        }

        w.WritePropertyName("annotations");
        w.StartObject();
        w.WriteNumber("original_specfile_version", 5);
        w.EndObject();
        w.EndObject();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Hashes a draft with Depot's <see cref="DagHash"/> and returns its JSON with <c>hash</c>
    /// appended.</summary>
    public static (string Hash, byte[] Json) Hash(byte[] withoutHash)
    {
        string hash;
        using (var doc = JsonDocument.Parse(withoutHash))
        {
            hash = DagHash.Compute(doc.RootElement);
        }

        var json = new byte[withoutHash.Length - 1 + HashKey.Length + DagHash.Length + 2];
        withoutHash.AsSpan(0, withoutHash.Length - 1).CopyTo(json);
        var n = withoutHash.Length - 1;
        HashKey.CopyTo(json, n);
        n += HashKey.Length;
        System.Text.Encoding.ASCII.GetBytes(hash, json.AsSpan(n));
        n += DagHash.Length;
        json[n++] = (byte)'"';
        json[n] = (byte)'}';
        return (hash, json);
    }

    /// <summary>Adds a hashed node (or returns the existing one with that hash).</summary>
    public int Add(string name, string version, string os, string target, string hash, byte[] json, int[] dependencies,
        bool external)
    {
        if (byHash.TryGetValue(hash, out var existing))
        {
            return existing;
        }

        var id = Nodes.Count;
        var nameId = NameId(name);
        var closure = new HashSet<int> { id };
        foreach (var d in dependencies)
        {
            closure.UnionWith(Nodes[d].Closure);
        }

        var sorted = closure.ToArray();
        Array.Sort(sorted);
        var names = new HashSet<int>();
        var unified = true;
        foreach (var c in sorted)
        {
            unified &= names.Add(c == id ? nameId : Nodes[c].NameId);
        }

        Nodes.Add(new GraphNode
        {
            Id = id,
            Name = name,
            NameId = nameId,
            Version = version,
            Hash = hash,
            Os = os,
            Target = target,
            Json = json,
            Dependencies = dependencies,
            Closure = sorted,
            Unified = unified,
            IsExternal = external,
        });
        byHash[hash] = id;
        return id;
    }

    /// <summary>Root first, then the rest of the DAG in depth-first pre-order, each node once (Spack's
    /// <c>to_dict</c>).</summary>
    public List<int> PreOrder(int root)
    {
        var order = new List<int>();
        var seen = new HashSet<int>();
        var stack = new Stack<int>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var id = stack.Pop();
            if (!seen.Add(id))
            {
                continue;
            }

            order.Add(id);
            var deps = Nodes[id].Dependencies;
            for (var i = deps.Length - 1; i >= 0; i--)
            {
                stack.Push(deps[i]);
            }
        }

        return order;
    }

    public static void WriteTarget(PythonJsonWriter w, TargetInfo t)
    {
        if (t.IsGeneric)
        {
            w.WriteString(t.Name);
            return;
        }

        w.StartObject();
        w.WriteString("name", t.Name);
        w.WriteString("vendor", t.Vendor!);
        w.WritePropertyName("features");
        WriteStrings(w, t.Features ?? []);
        w.WriteNumber("generation", 0);
        w.WritePropertyName("parents");
        WriteStrings(w, t.Parents ?? []);
        w.WriteString("cpupart", "");
        w.EndObject();
    }

    private static void WriteStrings(PythonJsonWriter w, IEnumerable<string> values)
    {
        w.StartArray();
        foreach (var v in values)
        {
            w.WriteString(v);
        }

        w.EndArray();
    }
}
