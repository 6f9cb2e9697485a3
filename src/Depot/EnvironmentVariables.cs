namespace Depot;

/// <summary>
/// The environment variables the engine may consult (<c>DEPOT_HOME</c>, <c>SPACK_ROOT</c>, the variables a mirror's
/// configuration names, the clouds' own settings), as a read-only lookup a host builds once and passes in. The
/// engine never reads the process environment itself: a host builds this with <see cref="FromProcess"/> at its edge,
/// and a test gives its own values, so tests running in parallel never share a variable.
/// </summary>
public sealed class EnvironmentVariables
{
    private readonly Dictionary<string, string> values;

    private EnvironmentVariables(Dictionary<string, string> values) => this.values = values;

    /// <summary>No variable set: nothing configured through the environment.</summary>
    public static EnvironmentVariables Empty { get; } = new([]);

    /// <summary>
    /// A snapshot of this process's environment; <c>HOME</c>, when unset, is the user's home folder as the system
    /// knows it. Hosts call this once, at their edge.
    /// </summary>
    public static EnvironmentVariables FromProcess()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name && entry.Value is string value)
            {
                values[name] = value;
            }
        }

        if (!values.ContainsKey("HOME")
            && Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home)
        {
            values["HOME"] = home;
        }

        return new EnvironmentVariables(values);
    }

    /// <summary>Exactly these variables (a test's, a server configuration's).</summary>
    public static EnvironmentVariables From(IEnumerable<KeyValuePair<string, string>> variables) =>
        new(new Dictionary<string, string>(variables, StringComparer.Ordinal));

    /// <summary>The value of <paramref name="name"/>; null when it is unset or empty.</summary>
    public string? this[string name] => values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    /// <summary>The user's home folder (<c>HOME</c>); null when unknown.</summary>
    public string? UserHome => this["HOME"];

    /// <summary>These variables with <paramref name="name"/> set to <paramref name="value"/> (null: unset).</summary>
    public EnvironmentVariables With(string name, string? value)
    {
        var copy = new Dictionary<string, string>(values, StringComparer.Ordinal);
        if (value is null)
        {
            copy.Remove(name);
        }
        else
        {
            copy[name] = value;
        }

        return new EnvironmentVariables(copy);
    }

    /// <summary>
    /// The full path of <paramref name="program"/> found in this environment's <c>PATH</c>; null when no folder there
    /// holds an executable of that name.
    /// </summary>
    public string? FindProgram(string program)
    {
        foreach (var folder in (this["PATH"] ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, program);
            if (File.Exists(candidate)
                && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute
                    | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }

        return null;
    }
}
