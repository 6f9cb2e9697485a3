using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Depot.Storage.Oci;

/// <summary>A user name and password (or token) for one registry, and where they came from (for messages).</summary>
public sealed record OciCredential(string Username, string Password, string Source);

/// <summary>
/// Finds credentials for a registry the way container tools do: the mirror's own (Spack's <c>access_pair</c>), else
/// <c>$DOCKER_CONFIG/config.json</c> (default <c>~/.docker/config.json</c>): a credential helper named for the registry
/// in <c>credHelpers</c>, an <c>auths</c> entry, then the <c>credsStore</c> helper (found in the environment's
/// <c>PATH</c>). Null means anonymous. The variables come from the environment given, never the process's.
/// </summary>
public static class OciCredentials
{
    /// <param name="registry">host[:port] as in the mirror URL.</param>
    /// <param name="explicitCredential">from the mirror configuration; wins when set.</param>
    /// <param name="environment">where <c>DOCKER_CONFIG</c>, <c>HOME</c> and <c>PATH</c> are read.</param>
    /// <exception cref="DepotException">The Docker config is malformed, or a helper it names fails.</exception>
    public static OciCredential? Resolve(string registry, OciCredential? explicitCredential,
        EnvironmentVariables environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (explicitCredential is not null)
        {
            return explicitCredential;
        }

        var path = DockerConfigPath(environment);
        if (path is null || !File.Exists(path))
        {
            return null;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(path, "malformed JSON: " + e.Message);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.TryGetProperty("credHelpers", out var helpers) && helpers.ValueKind == JsonValueKind.Object
                && Matching(helpers, registry) is { ValueKind: JsonValueKind.String } helper)
            {
                return FromHelper(helper.GetString()!, registry, path, environment);
            }

            if (root.TryGetProperty("auths", out var auths) && auths.ValueKind == JsonValueKind.Object
                && Matching(auths, registry) is { ValueKind: JsonValueKind.Object } entry)
            {
                if (FromAuthEntry(entry, $"{path} (auths.{registry})") is { } found)
                {
                    return found;
                }
            }

            if (root.TryGetProperty("credsStore", out var store) && store.ValueKind == JsonValueKind.String
                && store.GetString() is { Length: > 0 } storeName)
            {
                return FromHelper(storeName, registry, path, environment);
            }
        }

        return null;
    }

    /// <summary>
    /// <c>$DOCKER_CONFIG/config.json</c>, else <c>$HOME/.docker/config.json</c>; null when neither is set.
    /// </summary>
    public static string? DockerConfigPath(EnvironmentVariables environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var folder = environment["DOCKER_CONFIG"]
            ?? (environment.UserHome is { } home ? Path.Combine(home, ".docker") : null);
        return folder is null ? null : Path.Combine(folder, "config.json");
    }

    // Keys are written as "host", "host:port", "https://host/v1/" (Docker Hub's is "https://index.docker.io/v1/").
    private static JsonElement? Matching(JsonElement map, string registry)
    {
        foreach (var property in map.EnumerateObject())
        {
            var key = property.Name;
            var scheme = key.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0)
            {
                key = key[(scheme + 3)..];
            }

            key = key.Split('/')[0].ToLowerInvariant();
            if (key == registry || (registry == OciReference.DockerHub && key is "docker.io" or "registry-1.docker.io"))
            {
                return property.Value;
            }
        }

        return null;
    }

    private static OciCredential? FromAuthEntry(JsonElement entry, string source)
    {
        if (entry.TryGetProperty("auth", out var auth) && auth.GetString() is { Length: > 0 } encoded)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                throw new InvalidContentException(source, "'auth' is not base64 of user:password");
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon > 0
                ? new OciCredential(decoded[..colon], decoded[(colon + 1)..], source)
                : throw new InvalidContentException(source, "'auth' does not decode to user:password");
        }

        if (entry.TryGetProperty("username", out var user) && entry.TryGetProperty("password", out var password)
            && user.GetString() is { Length: > 0 } u && password.GetString() is { } p)
        {
            return new OciCredential(u, p, source);
        }

        return null;
    }

    // The credential-helper protocol: `docker-credential-<name> get`, the server on stdin, {"Username","Secret"} out.
    private static OciCredential? FromHelper(string name, string registry, string configPath,
        EnvironmentVariables environment)
    {
        var program = "docker-credential-" + name;
        var source = $"credential helper {program} (named in {configPath})";
        var executable = environment.FindProgram(program)
            ?? throw new DepotException(ErrorKind.Authentication,
                $"{source}: cannot run it (not found in PATH); install it or remove it from the config");
        var start = new ProcessStartInfo(executable, ["get"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (environment["PATH"] is { } searchPath)
        {
            start.Environment["PATH"] = searchPath;
        }

        Process process;
        try
        {
            process = Process.Start(start)
                ?? throw new DepotException(ErrorKind.Authentication, $"{source}: could not be started");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DepotException(ErrorKind.Authentication,
                $"{source}: cannot run it ({e.Message}); install it or remove it from the config");
        }

        using (process)
        {
            process.StandardInput.Write(registry);
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(30_000))
            {
                process.Kill();
                throw new DepotException(ErrorKind.Authentication, $"{source}: no answer within 30 s");
            }

            if (process.ExitCode != 0)
            {
                // "credentials not found in native keychain" is how helpers say "none": anonymous then.
                var message = (output + error).Trim();
                return message.Contains("not found", StringComparison.OrdinalIgnoreCase)
                    ? null
                    : throw new DepotException(ErrorKind.Authentication,
                        $"{source}: failed for {registry} (exit {process.ExitCode}): {message}");
            }

            try
            {
                using var doc = JsonDocument.Parse(output);
                var user = doc.RootElement.GetProperty("Username").GetString();
                var secret = doc.RootElement.GetProperty("Secret").GetString();
                return user is { Length: > 0 } && secret is not null ? new OciCredential(user, secret, source) : null;
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new DepotException(ErrorKind.Authentication,
                    $"{source}: answered something other than {{\"Username\",\"Secret\"}} for {registry}");
            }
        }
    }
}
