using System.Text;
using System.Text.RegularExpressions;
using Depot.Layout;
using Depot.Specs;

namespace Depot.InstallTree;

/// <summary>
/// Spack's install-tree projections (<c>install-tree.md</c> §1): a format such as
/// <c>{architecture.platform}-{architecture.target}/{name}-{version}-{hash}</c> rendered for a spec, each path
/// component made file-name safe as Spack does.
/// </summary>
public static partial class Projection
{
    /// <summary>Spack 1.x's default.</summary>
    public const string Spack1 = "{architecture.platform}-{architecture.target}/{name}-{version}-{hash}";

    /// <summary>Spack 0.21's default.</summary>
    public const string Spack021 = "{architecture}/{compiler.name}-{compiler.version}/{name}-{version}-{hash}";

    /// <summary>The default for a database version (7: Spack 0.21–0.23, 8: 1.x).</summary>
    public static string DefaultFor(int databaseVersion) => databaseVersion >= 8 ? Spack1 : Spack021;

    /// <exception cref="DepotException">The projection uses a token Depot does not know.</exception>
    /// <exception cref="DepotException">A rendered component is empty, <c>.</c> or <c>..</c> (a spec named <c>..</c>,
    /// say).</exception>
    public static string Render(string projection, SpecNode spec)
    {
        var parts = projection.Split('/')
            .Select(part => PathNames.Polite(
                Token().Replace(part, m => Value(m.Groups[1].Value, m.Groups[2].Value, spec, projection))))
            .ToList();
        foreach (var part in parts)
        {
            PrefixNames.CheckComponent(part,
                $"install tree projection '{projection}' for {spec.Name}/{spec.Hash[..Math.Min(7, spec.Hash.Length)]}");
        }

        return string.Join('/', parts);
    }

    /// <summary>
    /// The <c>config:install_tree:projections</c> of a Spack <c>config.yaml</c>, in the file's order: a package name
    /// (or <c>all</c>) and its format; null when the file sets none.
    /// </summary>
    /// <exception cref="DepotException">A key is a spec constraint Depot does not evaluate (only package names and
    /// <c>all</c>), or the file is not YAML.</exception>
    public static IReadOnlyList<(string Key, string Format)>? FromSpackConfig(string configYaml)
    {
        if (!File.Exists(configYaml))
        {
            return null;
        }

        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        try
        {
            var text = File.ReadAllText(configYaml, Encoding.UTF8);
            Formats.YamlDepth.Check(text, configYaml, Formats.YamlDepth.ConfigLimit, "the file");
            yaml.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidContentException(configYaml, $"invalid YAML at line {e.Start.Line}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The library's own failures on some malformed input, with no position.
            throw new InvalidContentException(configYaml, "invalid YAML: " + e.Message.Split('\n')[0]);
        }

        var node = yaml.Documents.FirstOrDefault()?.RootNode;
        foreach (var key in new[] { "config", "install_tree", "projections" })
        {
            node = node is YamlDotNet.RepresentationModel.YamlMappingNode map
                && map.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode(key), out var child)
                ? child : null;
        }

        if (node is not YamlDotNet.RepresentationModel.YamlMappingNode projections)
        {
            return null;
        }

        var result = new List<(string, string)>();
        foreach (var (key, value) in projections.Children)
        {
            var name = (key as YamlDotNet.RepresentationModel.YamlScalarNode)?.Value ?? "";
            if (name != "all" && !PackageName().IsMatch(name))
            {
                throw new DepotException(ErrorKind.Unsupported,
                    $"{configYaml}: install_tree projection for '{name}': Depot matches projections by package name "
                    + "or 'all' only");
            }

            if ((value as YamlDotNet.RepresentationModel.YamlScalarNode)?.Value is { Length: > 0 } format)
            {
                result.Add((name, format.ToLowerInvariant()));
            }
        }

        return result.Count > 0 ? result : null;
    }

    /// <summary>
    /// The format for <paramref name="spec"/> as Spack picks it: the projection named for its package, else
    /// <c>all</c>'s, else <paramref name="fallback"/>.
    /// </summary>
    public static string For(IReadOnlyList<(string Key, string Format)>? projections, SpecNode spec,
        string fallback)
    {
        ArgumentNullException.ThrowIfNull(spec);
        projections ??= [];
        return projections.Where(p => p.Key == spec.Name).Select(p => p.Format).FirstOrDefault()
            ?? projections.Where(p => p.Key == "all").Select(p => p.Format).FirstOrDefault()
            ?? fallback;
    }

    private static string Value(string token, string? length, SpecNode spec, string projection)
    {
        var value = token switch
        {
            "name" => spec.Name,
            "version" => spec.Version,
            "hash" => spec.Hash,
            "namespace" => spec.Namespace ?? "",
            "architecture" or "arch" => spec.Architecture,
            "architecture.platform" or "arch.platform" => spec.Platform,
            "architecture.os" or "architecture.platform_os" or "arch.os" => spec.PlatformOs,
            "architecture.target" or "arch.target" => spec.Target,
            "compiler.name" => spec.Compiler?.Name ?? "none",
            "compiler.version" => spec.Compiler?.Version ?? "none",
            _ => throw new DepotException(ErrorKind.Unsupported,
                $"install tree projection '{projection}' uses {{{token}}}, which Depot does not render"),
        };
        return length is { Length: > 0 } && int.TryParse(length, out var n) && n < value.Length ? value[..n] : value;
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]*$")]
    private static partial Regex PackageName();

    [GeneratedRegex(@"\{([a-z_.]+)(?::(\d+))?\}")]
    private static partial Regex Token();
}
