using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Depot.Archive;

/// <summary>Which Spack's build info file to write: 1.x's one-line flow YAML or 0.21's block YAML.</summary>
public enum BuildInfoStyle
{
    /// <summary>Spack 1.x (and 0.22+): <c>syaml.dump(..., default_flow_style=True)</c>, keys in 1.x order.</summary>
    Flow,

    /// <summary>Spack 0.21: block YAML, keys in 0.21's order.</summary>
    Block,
}

/// <summary>
/// The relocation metadata stored as <c>.spack/binary_distribution</c>, the last member of every package tarball
/// (<c>relocation.md</c> §2): where the package was built and which of its files mention a prefix.
/// </summary>
public sealed partial record BuildInfo(
    string SbangInstallPath,
    string BuildPath,
    string SpackPrefix,
    string RelativePrefix,
    IReadOnlyList<KeyValuePair<string, string>> HashToPrefix,
    IReadOnlyList<string> RelocateBinaries,
    IReadOnlyList<string> RelocateLinks,
    IReadOnlyList<string> RelocateTextFiles)
{
    /// <summary>
    /// Reads a build info file written by any Spack (flow or block YAML). Old files carry <c>prefix_to_hash</c>
    /// instead of <c>hash_to_prefix</c>; it is inverted.
    /// </summary>
    /// <exception cref="InvalidContentException">Not YAML, not a mapping, or a key of the wrong shape.</exception>
    public static BuildInfo Parse(ReadOnlySpan<byte> yaml, string location)
    {
        if (yaml.Length > MaxBytes)
        {
            throw new InvalidContentException(location, $"build info is larger than the {MaxBytes >> 20} MiB allowed");
        }

        var text = Encoding.UTF8.GetString(yaml);
        YamlDotNet.RepresentationModel.YamlMappingNode map;
        try
        {
            Formats.YamlDepth.Check(text, location, MaxDepth, "build info");
            var stream = new YamlDotNet.RepresentationModel.YamlStream();
            stream.Load(new StringReader(text));
            map = stream.Documents.Count == 1
                && stream.Documents[0].RootNode is YamlDotNet.RepresentationModel.YamlMappingNode m
                ? m : throw new InvalidContentException(location, "build info is not a YAML mapping");
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidContentException(location, "build info is not valid YAML: " + e.Message);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The library's own failures on some malformed input (a plain scalar its scanner cannot end).
            throw new InvalidContentException(location, "build info is not valid YAML: " + e.Message);
        }

        string Text(string key) =>
            map.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode(key), out var v)
            ? v is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } t } ? t
                : throw new InvalidContentException(location, $"build info '{key}' is not a string")
            : "";

        IReadOnlyList<string> List(string key) =>
            !map.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode(key), out var v) ? []
            : v is YamlDotNet.RepresentationModel.YamlSequenceNode seq
                ? seq.Select(n => n is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } t } ? t
                    : throw new InvalidContentException(location, $"build info '{key}' holds a non-string")).ToList()
                : throw new InvalidContentException(location, $"build info '{key}' is not a list");

        IReadOnlyList<KeyValuePair<string, string>> Pairs(string key, bool invert)
        {
            if (!map.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode(key), out var v))
            {
                return [];
            }

            if (v is not YamlDotNet.RepresentationModel.YamlMappingNode m)
            {
                throw new InvalidContentException(location, $"build info '{key}' is not a mapping");
            }

            return m.Children.Select(kv => (kv.Key, kv.Value)
                    is (YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } k },
                        YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } val })
                ? invert ? new KeyValuePair<string, string>(val, k) : new KeyValuePair<string, string>(k, val)
                : throw new InvalidContentException(location, $"build info '{key}' holds a non-string")).ToList();
        }

        var hashToPrefix = Pairs("hash_to_prefix", invert: false);
        if (hashToPrefix.Count == 0)
        {
            hashToPrefix = Pairs("prefix_to_hash", invert: true);
        }

        var buildPath = Text("buildpath");
        if (buildPath.Length == 0)
        {
            throw new InvalidContentException(location, "build info has no 'buildpath'");
        }

        return new BuildInfo(Text("sbang_install_path"), buildPath, Text("spackprefix"), Text("relative_prefix"),
            hashToPrefix, List("relocate_binaries"), List("relocate_links"), List("relocate_textfiles"));
    }

    /// <summary>A build info file lists a package's files: a few MiB for the largest packages.</summary>
    public const int MaxBytes = 64 << 20;

    /// <summary>Real build info nests two deep (a mapping of lists and of a mapping).</summary>
    public const int MaxDepth = 16;

    // YamlDotNet builds its node tree recursively, so YAML nested 100,000 deep would overflow the stack (which no
    // handler can catch). Its parser is a state machine: walking its events first measures the depth without recursion.
    /// <summary>The file's bytes exactly as Spack's YAML dumper writes them (UTF-8, trailing newline).</summary>
    public byte[] ToYaml(BuildInfoStyle style) =>
        Encoding.UTF8.GetBytes(style == BuildInfoStyle.Flow ? Flow() : Block());

    private string Flow()
    {
        var b = new StringBuilder("{");
        b.Append("sbang_install_path: ").Append(Scalar(SbangInstallPath));
        b.Append(", buildpath: ").Append(Scalar(BuildPath));
        b.Append(", spackprefix: ").Append(Scalar(SpackPrefix));
        b.Append(", relative_prefix: ").Append(Scalar(RelativePrefix));
        b.Append(", hardlinks_deduped: true, hash_to_prefix: {");
        b.AppendJoin(", ", HashToPrefix.Select(p => Scalar(p.Key) + ": " + Scalar(p.Value)));
        b.Append("}, relocate_binaries: ").Append(FlowList(RelocateBinaries));
        b.Append(", relocate_links: ").Append(FlowList(RelocateLinks));
        b.Append(", relocate_textfiles: ").Append(FlowList(RelocateTextFiles));
        return b.Append("}\n").ToString();
    }

    private string Block()
    {
        var b = new StringBuilder();
        b.Append("sbang_install_path: ").Append(Scalar(SbangInstallPath)).Append('\n');
        b.Append("buildpath: ").Append(Scalar(BuildPath)).Append('\n');
        b.Append("spackprefix: ").Append(Scalar(SpackPrefix)).Append('\n');
        b.Append("relative_prefix: ").Append(Scalar(RelativePrefix)).Append('\n');
        BlockList(b, "relocate_textfiles", RelocateTextFiles);
        BlockList(b, "relocate_binaries", RelocateBinaries);
        BlockList(b, "relocate_links", RelocateLinks);
        b.Append("hardlinks_deduped: true\n");
        if (HashToPrefix.Count == 0)
        {
            return b.Append("hash_to_prefix: {}\n").ToString();
        }

        b.Append("hash_to_prefix:\n");
        foreach (var (hash, prefix) in HashToPrefix)
        {
            b.Append("  ").Append(Scalar(hash)).Append(": ").Append(Scalar(prefix)).Append('\n');
        }

        return b.ToString();
    }

    private static string FlowList(IReadOnlyList<string> items) => "[" + string.Join(", ", items.Select(Scalar)) + "]";

    private static void BlockList(StringBuilder b, string key, IReadOnlyList<string> items)
    {
        if (items.Count == 0)
        {
            b.Append(key).Append(": []\n");
            return;
        }

        b.Append(key).Append(":\n");
        foreach (var item in items)
        {
            b.Append("- ").Append(Scalar(item)).Append('\n');
        }
    }

    // Plain when PyYAML would write it plain (paths and hashes always are); single-quoted otherwise, double-quoted
    // with escapes when it holds characters single quotes cannot carry.
    private static string Scalar(string value)
    {
        if (PlainSafe().IsMatch(value) && !LooksResolved(value))
        {
            return value;
        }

        if (value.All(c => c >= ' ' && c != '\u007f' && !char.IsSurrogate(c) && c < '\u0080'))
        {
            return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
        }

        var d = new StringBuilder("\"");
        foreach (var rune in value.EnumerateRunes())
        {
            d.Append(rune.Value switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                < 0x20 or 0x7f => string.Create(CultureInfo.InvariantCulture, $"\\x{rune.Value:X2}"),
                < 0x80 => rune.ToString(),
                <= 0xffff => string.Create(CultureInfo.InvariantCulture, $"\\u{rune.Value:X4}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\U{rune.Value:X8}"),
            });
        }

        return d.Append('"').ToString();
    }

    // Strings YAML 1.1 would read as something other than a string (booleans, null, numbers) must be quoted.
    private static bool LooksResolved(string value) =>
        Resolved().IsMatch(value);

    [GeneratedRegex(@"^[A-Za-z0-9_/.][A-Za-z0-9_/.+@=%~-]*$")]
    private static partial Regex PlainSafe();

    [GeneratedRegex(@"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
        + @"|null|Null|NULL|~|[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        + @"|0x[0-9a-fA-F_]+|0o?[0-7_]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
        + @"|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$")]
    private static partial Regex Resolved();
}
