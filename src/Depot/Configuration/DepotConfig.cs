using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Depot.Configuration;

/// <summary>Depot's <c>config.yaml</c>. Unknown keys are kept out of the model but tolerated.</summary>
public sealed class DepotConfig
{
    // Built from the generated ConfigYamlContext (no reflection: trimming and Native AOT safe).
    private static readonly IDeserializer Reader = new StaticDeserializerBuilder(new ConfigYamlContext())
        .WithNamingConvention(UnderscoredNamingConvention.Instance).IgnoreUnmatchedProperties().Build();

    private static readonly ISerializer Writer = new StaticSerializerBuilder(new ConfigYamlContext())
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull | DefaultValuesHandling.OmitEmptyCollections)
        // A settings object shared by two mirrors is written out in each, never as a YAML anchor and alias: the file
        // is for people to read and edit, and each mirror's entry is read on its own.
        .DisableAliases()
        .Build();

    public Dictionary<string, MirrorConfig> Mirrors { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Mirror entries that could not be read (by <see cref="LoadTolerant"/>), by name: each error names the file, line,
    /// column and field. They are left out of <see cref="Mirrors"/>; using one by name raises its error.
    /// </summary>
    [YamlIgnore]
    public Dictionary<string, DepotException> Broken { get; } = new(StringComparer.Ordinal);

    /// <summary>The whole file, every mirror entry valid (what a command that rewrites the file needs).</summary>
    /// <exception cref="DepotException">
    /// The file is not valid YAML of this shape: the message names the file, line, column and field.
    /// </exception>
    public static DepotConfig Load(string path)
    {
        var config = LoadTolerant(path);
        return config.Broken.Count == 0 ? config
            : throw config.Broken.OrderBy(b => b.Key, StringComparer.Ordinal).First().Value;
    }

    /// <summary>
    /// The file, with a broken mirror entry set aside in <see cref="Broken"/> rather than failing every command:
    /// what a command that only reads mirrors needs (one that does not use the broken entry still runs).
    /// </summary>
    /// <exception cref="DepotException">The file is not YAML, or not a mapping with a <c>mirrors</c>
    /// mapping.</exception>
    public static DepotConfig LoadTolerant(string path)
    {
        try
        {
            return LoadEvents(path);
        }
        catch (ArgumentOutOfRangeException)
        {
            // The event walk ran off the end: a stream of events of no shape this file has (found by fuzzing).
            throw new InvalidContentException(path, "not a YAML mapping with a 'mirrors:' section");
        }
    }

    private static DepotConfig LoadEvents(string path)
    {
        var config = new DepotConfig();
        if (!File.Exists(path))
        {
            return config;
        }

        var events = ConfigYaml.Events(path);
        var at = 0;
        while (events[at] is StreamStart or DocumentStart)
        {
            at++;
        }

        if (events[at] is StreamEnd or DocumentEnd || events[at] is Scalar { } empty && ConfigYaml.IsNull(empty))
        {
            return config;
        }

        if (events[at] is not MappingStart)
        {
            throw ConfigYaml.Error(path, events[at].Start, "(top level)",
                "must be a mapping with a 'mirrors:' section");
        }

        for (var i = at + 1; events[i] is not MappingEnd;)
        {
            var keyEnd = ConfigYaml.Skip(events, i);
            var valueEnd = ConfigYaml.Skip(events, keyEnd);
            if (events[i] is Scalar { Value: "mirrors" })
            {
                config.ReadMirrors(path, events, keyEnd);
            }

            i = valueEnd;
        }

        return config;
    }

    // Each mirror on its own: a broken one is recorded with its file, line, column and field, the others kept.
    private void ReadMirrors(string path, List<ParsingEvent> events, int at)
    {
        if (events[at] is Scalar { } none && ConfigYaml.IsNull(none))
        {
            return;
        }

        if (events[at] is not MappingStart)
        {
            throw ConfigYaml.Error(path, events[at].Start, "mirrors",
                "must map mirror names to their settings (NAME: {url: URL})");
        }

        for (var i = at + 1; events[i] is not MappingEnd;)
        {
            var keyEnd = ConfigYaml.Skip(events, i);
            var valueEnd = ConfigYaml.Skip(events, keyEnd);
            var name = (events[i] as Scalar)?.Value ?? "";
            try
            {
                Mirrors[name] = ReadMirror(path, events, i, keyEnd, valueEnd);
            }
            catch (DepotException e)
            {
                Broken[name] = e;
            }

            i = valueEnd;
        }
    }

    private static MirrorConfig ReadMirror(string path, List<ParsingEvent> events, int key, int value, int end)
    {
        var field = $"mirrors.{(events[key] as Scalar)?.Value}";
        if (events[key] is not Scalar { Value.Length: > 0 })
        {
            throw ConfigYaml.Error(path, events[key].Start, field, "a mirror's name must be a plain word");
        }

        MirrorConfig? mirror;
        try
        {
            var part = ConfigYaml.Resolved(events, value, end);
            mirror = Reader.Deserialize<MirrorConfig?>(new ConfigYaml.Replay(part, 0, part.Count));
        }
        catch (YamlException e)
        {
            // Named by the offending value's own place (whichever mark the library gave: the key's or the value's).
            var (below, at) = ConfigYaml.FieldAt(events, value, end, e.Start);
            throw ConfigYaml.Error(path, events[at].Start, field + below, ConfigYaml.Explain(field + below,
                events[at]));
        }
        catch (Exception e) when (e is InvalidCastException or InvalidOperationException or ArgumentException)
        {
            // The deserializer's own failures on shapes it does not expect (a tagged scalar where settings go).
            throw ConfigYaml.Error(path, events[value].Start, field, "cannot be read as a mirror's settings");
        }

        if (mirror is null || string.IsNullOrWhiteSpace(mirror.Url) && string.IsNullOrWhiteSpace(mirror.Fetch?.Url)
            && string.IsNullOrWhiteSpace(mirror.Push?.Url))
        {
            throw ConfigYaml.Error(path, events[key].Start, field, "has no 'url'");
        }

        if (mirror.MaxCompressionRatio is < 1 || double.IsNaN(mirror.MaxCompressionRatio ?? 1))
        {
            throw ConfigYaml.Error(path, events[key].Start, field + ".max_compression_ratio",
                $"is {mirror.MaxCompressionRatio}: a ratio of unpacked to compressed bytes, at least 1 (default 200)");
        }

        mirror.Source = path;
        mirror.TrustedFingerprints = mirror.TrustedFingerprints.Select(f => f.Replace(" ", "",
            StringComparison.Ordinal).ToUpperInvariant()).ToList();
        return mirror;
    }

    /// <summary>Writes the file atomically (temp file, then rename).</summary>
    public void Save(string path)
    {
        Posix.OwnerOnly.CreateFolder(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temp, Writer.Serialize(this));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The configured mirror named <paramref name="nameOrUrl"/>, or whose URL equals it.</summary>
    public (string Name, MirrorConfig Mirror)? Find(string nameOrUrl)
    {
        if (Mirrors.TryGetValue(nameOrUrl, out var byName))
        {
            return (nameOrUrl, byName);
        }

        foreach (var (name, mirror) in Mirrors)
        {
            if (SameLocation(mirror.Url, nameOrUrl))
            {
                return (name, mirror);
            }
        }

        return null;
    }

    /// <summary>Whether two mirror locations name the same place (file:// and paths normalised, trailing '/'
    /// ignored).</summary>
    internal static bool SameLocation(string a, string b)
    {
        static string Normalize(string s)
        {
            if (s.StartsWith("file://", StringComparison.OrdinalIgnoreCase)
                && Uri.TryCreate(s, UriKind.Absolute, out var u))
            {
                s = u.LocalPath;
            }

            return s.Contains("://", StringComparison.Ordinal) ? s.TrimEnd('/') : Path.GetFullPath(s).TrimEnd('/');
        }

        return string.Equals(Normalize(a), Normalize(b), StringComparison.Ordinal);
    }
}

/// <summary>The types of <c>config.yaml</c>, for YamlDotNet's source generator.</summary>
[YamlStaticContext]
[YamlSerializable(typeof(DepotConfig))]
[YamlSerializable(typeof(MirrorConfig))]
[YamlSerializable(typeof(MirrorConnection))]
[YamlSerializable(typeof(MirrorAccessPair))]
public partial class ConfigYamlContext : StaticContext;
