using YamlDotNet.RepresentationModel;

namespace Depot.Configuration;

/// <summary>
/// Reads mirrors from Spack's own configuration, so a Spack user's mirrors work in Depot with no set-up: the user
/// scope (<c>$SPACK_USER_CONFIG_PATH</c> or <c>~/.spack</c>) over the site scope (<c>$SPACK_ROOT/etc/spack</c>), each
/// <c>mirrors.yaml</c>. A mirror is either a URL or a mapping with <c>url</c>, <c>fetch</c>/<c>push</c>,
/// <c>signed</c>, <c>access_pair</c> (1.x mapping or older <c>[id, secret]</c> list), <c>access_token_variable</c>,
/// <c>profile</c>, <c>endpoint_url</c>.
/// </summary>
public static class SpackMirrors
{
    /// <summary>
    /// The scopes <paramref name="environment"/> names, highest precedence first: (scope name, mirrors.yaml path). No
    /// user scope without <c>SPACK_USER_CONFIG_PATH</c> or <c>HOME</c>, no site scope without <c>SPACK_ROOT</c>.
    /// </summary>
    public static IEnumerable<(string Scope, string Path)> Scopes(EnvironmentVariables environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var user = environment["SPACK_USER_CONFIG_PATH"]
            ?? (environment.UserHome is { } home ? Path.Combine(home, ".spack") : null);
        if (user is not null && environment["SPACK_DISABLE_LOCAL_CONFIG"] is not ("1" or "true"))
        {
            yield return ("spack user", Path.Combine(user, "mirrors.yaml"));
        }

        if (environment["SPACK_ROOT"] is { } root)
        {
            yield return ("spack site", Path.Combine(root, "etc", "spack", "mirrors.yaml"));
        }
    }

    /// <exception cref="DepotException">The file is not valid YAML or a mirror is malformed.</exception>
    public static Dictionary<string, MirrorConfig> Read(string path)
    {
        var result = new Dictionary<string, MirrorConfig>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return result;
        }

        var yaml = new YamlStream();
        try
        {
            var text = File.ReadAllText(path);
            Formats.YamlDepth.Check(text, path, Formats.YamlDepth.ConfigLimit, "the file");
            yaml.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw ConfigYaml.Error(path, e.Start, null, "invalid YAML: " + ConfigYaml.Plain(e.Message));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The library's own failures on some malformed input (a scanner state, an event it cannot make a node of).
            throw new InvalidContentException(path, "invalid YAML: " + ConfigYaml.Plain(e.Message));
        }

        if (yaml.Documents.FirstOrDefault()?.RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("mirrors"), out var mirrorsNode)
                && !root.Children.TryGetValue(new YamlScalarNode("mirrors:"), out mirrorsNode)
            || mirrorsNode is not YamlMappingNode mirrors)
        {
            return result;
        }

        foreach (var (key, value) in mirrors.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                // A mapping or sequence as a mirror's name (found by bench/fuzz.sh): Spack would not read it either.
                throw new InvalidContentException(path, "a mirror's name under 'mirrors' is not a plain string");
            }

            var mirror = new MirrorConfig { Source = path };
            if (value is YamlScalarNode { Value: { } url })
            {
                mirror.Url = url;
            }
            else if (value is YamlMappingNode map)
            {
                Fill(mirror, map, path, name);
                mirror.Signed = Text(map, "signed") is { } signed ? signed is "true" or "True" : null;
                mirror.Fetch = Section(map, "fetch", path, name);
                mirror.Push = Section(map, "push", path, name);
            }
            else
            {
                throw new DepotException($"{path}: mirror '{name}' is neither a URL nor a mapping");
            }

            result[name] = mirror;
        }

        return result;
    }

    private static MirrorConnection? Section(YamlMappingNode map, string key, string path, string name)
    {
        if (!map.Children.TryGetValue(new YamlScalarNode(key), out var node))
        {
            return null;
        }

        var connection = new MirrorConnection();
        if (node is YamlScalarNode { Value: { } url })
        {
            connection.Url = url;
        }
        else if (node is YamlMappingNode section)
        {
            Fill(connection, section, path, name);
        }

        return connection;
    }

    private static void Fill(MirrorConnection connection, YamlMappingNode map, string path, string name)
    {
        connection.Url = Text(map, "url") ?? connection.Url;
        connection.Profile = Text(map, "profile");
        connection.EndpointUrl = Text(map, "endpoint_url");
        connection.AccessTokenVariable = Text(map, "access_token_variable");
        if (map.Children.TryGetValue(new YamlScalarNode("access_pair"), out var pair))
        {
            connection.AccessPair = pair switch
            {
                YamlMappingNode m => new MirrorAccessPair
                {
                    Id = Text(m, "id"),
                    IdVariable = Text(m, "id_variable"),
                    SecretVariable = Text(m, "secret_variable"),
                },
                // Older Spack: [id, secret] in plain text. Depot keeps the id and refuses to carry a stored secret.
                YamlSequenceNode { Children.Count: 2 } s => throw new DepotException(
                    $"{path}: mirror '{name}' stores a secret in access_pair; use access_pair: "
                    + $"{{id: ..., secret_variable: VAR}} instead"),
                _ => throw new DepotException($"{path}: mirror '{name}': access_pair must be a mapping"),
            };
        }
    }

    private static string? Text(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode { Value: { } t } ? t : null;
}
