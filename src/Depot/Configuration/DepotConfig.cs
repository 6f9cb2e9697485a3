using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Depot.Configuration;

/// <summary>Depot's <c>config.yaml</c>. Unknown keys are kept out of the model but tolerated.</summary>
public sealed class DepotConfig
{
    // Built from the generated ConfigYaml context (no reflection: trimming and Native AOT safe).
    private static readonly IDeserializer Reader = new StaticDeserializerBuilder(new ConfigYaml())
        .WithNamingConvention(UnderscoredNamingConvention.Instance).IgnoreUnmatchedProperties().Build();

    private static readonly ISerializer Writer = new StaticSerializerBuilder(new ConfigYaml())
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull | DefaultValuesHandling.OmitEmptyCollections)
            .Build();

    public Dictionary<string, MirrorConfig> Mirrors { get; set; } = new(StringComparer.Ordinal);

    /// <exception cref="DepotException">The file is not valid YAML of this shape.</exception>
    public static DepotConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            return new DepotConfig();
        }

        try
        {
            var config = Reader.Deserialize<DepotConfig?>(File.ReadAllText(path)) ?? new DepotConfig();
            foreach (var (name, mirror) in config.Mirrors)
            {
                if (string.IsNullOrWhiteSpace(mirror?.Url) && string.IsNullOrWhiteSpace(mirror?.Fetch?.Url)
                    && string.IsNullOrWhiteSpace(mirror?.Push?.Url))
                {
                    throw new DepotException($"{path}: mirror '{name}' has no 'url'");
                }

                mirror.Source = path;

                mirror.TrustedFingerprints = mirror.TrustedFingerprints.Select(f => f.Replace(" ", "",
                    StringComparison.Ordinal).ToUpperInvariant()).ToList();
            }

            return config;
        }
        catch (YamlException e)
        {
            throw new DepotException($"{path}: invalid YAML at line {e.Start.Line}: "
                + $"{e.InnerException?.Message ?? e.Message}");
        }
    }

    /// <summary>Writes the file atomically (temp file, then rename).</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
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
public partial class ConfigYaml : StaticContext;
