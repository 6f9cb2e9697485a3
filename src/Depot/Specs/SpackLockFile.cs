using System.Text.Json;

namespace Depot.Specs;

/// <summary>A root of a Spack environment: the spec as the user wrote it and the DAG hash it concretized to.</summary>
public sealed record LockRoot(string Spec, string Hash);

/// <summary>
/// A Spack environment's <c>spack.lock</c> (JSON): <c>_meta.lockfile-version</c>, <c>roots</c> (user spec + hash) and
/// <c>concrete_specs</c>, every node of the environment keyed by its DAG hash, in spec-file node form (versions 4 to
/// 6: Spack 0.19 to 1.x; older versions keyed nodes by other hashes). Environments included with
/// <c>include_concrete</c> add their roots and nodes. Every reference is checked when the file is read: a root or
/// a dependency naming a hash the file lacks is refused, in one line naming the file and the field.
/// </summary>
public sealed class SpackLockFile
{
    /// <summary>The oldest <c>lockfile-version</c> read: the first keyed by DAG hash.</summary>
    public const int MinVersion = 4;

    /// <summary>The newest <c>lockfile-version</c> read (Spack 1.x).</summary>
    public const int MaxVersion = 6;

    /// <summary>Lock files larger than this are refused before they are read (512 MiB).</summary>
    public const long MaxBytes = 512L << 20;

    private const string IncludedKey = "include_concrete";

    private readonly Dictionary<string, SpecNode> specs;

    private SpackLockFile(string location, int version, List<LockRoot> roots, Dictionary<string, SpecNode> specs)
    {
        Location = location;
        Version = version;
        Roots = roots;
        this.specs = specs;
    }

    /// <summary>The file, for messages.</summary>
    public string Location { get; }

    /// <summary>Its <c>lockfile-version</c>.</summary>
    public int Version { get; }

    /// <summary>The environment's roots (and those of included environments), in file order.</summary>
    public IReadOnlyList<LockRoot> Roots { get; }

    /// <summary>Every concrete node, by DAG hash.</summary>
    public IReadOnlyCollection<SpecNode> Specs => specs.Values;

    /// <summary>The node with this DAG hash, or null.</summary>
    public SpecNode? Find(string hash) => specs.GetValueOrDefault(hash);

    /// <summary>Reads and checks a lock file.</summary>
    /// <exception cref="DepotException">The file is missing or unreadable, too large, or malformed (one line naming
    /// the file and the field).</exception>
    public static async Task<SpackLockFile> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new DepotException(ErrorKind.NotFound, $"{path}: no such lock file");
            }

            if (info.Length > MaxBytes)
            {
                throw new InvalidContentException(path, $"lock file is {info.Length} bytes, more than the "
                    + $"{MaxBytes >> 20} MiB Depot reads");
            }

            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DepotException(ErrorKind.IO, $"{path}: cannot read the lock file: {e.Message}", e);
        }

        return Parse(bytes, path);
    }

    /// <summary>Parses and checks lock file JSON; <paramref name="location"/> names it in errors.</summary>
    /// <exception cref="InvalidContentException">Malformed JSON, an unsupported version, or a bad field.</exception>
    public static SpackLockFile Parse(ReadOnlySpan<byte> json, string location)
    {
        JsonElement root;
        try
        {
            var reader = new Utf8JsonReader(json, SpecFile.ReaderOptions);
            root = JsonElement.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidContentException(location, "not a Spack lock file: not a JSON object");
        }

        if (!root.TryGetProperty("_meta", out var meta) || meta.ValueKind != JsonValueKind.Object
            || !meta.TryGetProperty("lockfile-version", out var versionField)
            || versionField.ValueKind != JsonValueKind.Number || !versionField.TryGetInt32(out var version))
        {
            throw new InvalidContentException(location,
                "not a Spack lock file: field '_meta.lockfile-version' is missing or not an integer");
        }

        if (version is < MinVersion or > MaxVersion)
        {
            throw new InvalidContentException(location, $"field '_meta.lockfile-version' is {version}: Depot reads "
                + $"lock files of versions {MinVersion} to {MaxVersion} (Spack 0.19 and later)");
        }

        var roots = new List<LockRoot>();
        var specs = new Dictionary<string, SpecNode>(StringComparer.Ordinal);
        try
        {
            ReadEnvironment(root, "", location, roots, specs);
        }
        catch (InvalidOperationException e)
        {
            // A value of the wrong JSON type where a reader did not check, or a string that is not valid UTF-8.
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }

        CheckReferences(roots, specs, location);
        return new SpackLockFile(location, version, roots, specs);
    }

    // An environment's roots and nodes, then those of the environments it includes (field paths say where).
    private static void ReadEnvironment(JsonElement env, string path, string location, List<LockRoot> roots,
        Dictionary<string, SpecNode> specs)
    {
        var rootsField = Required(env, "roots", JsonValueKind.Array, path, location);
        var i = 0;
        foreach (var item in rootsField.EnumerateArray())
        {
            var at = $"{path}roots[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidContentException(location, $"field '{at}' is not an object");
            }

            roots.Add(new LockRoot(RequiredString(item, "spec", at + ".", location),
                RequiredString(item, "hash", at + ".", location)));
        }

        var concrete = Required(env, "concrete_specs", JsonValueKind.Object, path, location);
        foreach (var entry in concrete.EnumerateObject())
        {
            var at = $"{path}concrete_specs.{entry.Name}";
            if (!DagHash.IsValid(entry.Name))
            {
                throw new InvalidContentException(location, $"field '{at}': the key is not a DAG hash");
            }

            SpecNode node;
            try
            {
                node = SpecNode.Parse(entry.Value, location);
            }
            catch (InvalidContentException e)
            {
                throw new InvalidContentException(location, $"field '{at}': {ProblemOf(e, location)}");
            }

            if (node.Hash != entry.Name)
            {
                throw new InvalidContentException(location, $"field '{at}.hash' is {node.Hash}, not its key");
            }

            specs.TryAdd(node.Hash, node);
        }

        if (env.TryGetProperty(IncludedKey, out var included))
        {
            if (included.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidContentException(location, $"field '{path}{IncludedKey}' is not an object");
            }

            foreach (var other in included.EnumerateObject())
            {
                if (other.Value.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidContentException(location,
                        $"field '{path}{IncludedKey}.{other.Name}' is not an object");
                }

                ReadEnvironment(other.Value, $"{path}{IncludedKey}.{other.Name}.", location, roots, specs);
            }
        }
    }

    private static void CheckReferences(List<LockRoot> roots, Dictionary<string, SpecNode> specs, string location)
    {
        for (var i = 0; i < roots.Count; i++)
        {
            if (!specs.ContainsKey(roots[i].Hash))
            {
                throw new InvalidContentException(location,
                    $"root '{roots[i].Spec}' names hash {roots[i].Hash}, which 'concrete_specs' lacks");
            }
        }

        foreach (var node in specs.Values)
        {
            IReadOnlyList<DependencyEdge> edges;
            try
            {
                edges = node.Dependencies;
            }
            catch (InvalidContentException e)
            {
                throw new InvalidContentException(location,
                    $"field 'concrete_specs.{node.Hash}.dependencies': {ProblemOf(e, location)}");
            }

            foreach (var edge in edges.Where(e => !specs.ContainsKey(e.Hash)))
            {
                throw new InvalidContentException(location, $"field 'concrete_specs.{node.Hash}.dependencies' names "
                    + $"{edge.Name} /{edge.Hash}, which 'concrete_specs' lacks");
            }
        }
    }

    // The problem without the file name the message starts with (the new message names the file once).
    private static string ProblemOf(InvalidContentException e, string location) =>
        e.Message.StartsWith(location + ": ", StringComparison.Ordinal) ? e.Message[(location.Length + 2)..]
            : e.Message;

    private static JsonElement Required(JsonElement obj, string name, JsonValueKind kind, string path,
        string location) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == kind ? value
            : throw new InvalidContentException(location, $"field '{path}{name}' is missing or not "
                + (kind == JsonValueKind.Array ? "a list" : "an object"));

    private static string RequiredString(JsonElement obj, string name, string path, string location) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: > 0 } text ? text
            : throw new InvalidContentException(location, $"field '{path}{name}' is missing or not a string");
}
