namespace Depot.Configuration;

/// <summary>
/// Depot's home folder: <c>$DEPOT_HOME</c>, else <c>~/.depot</c>. Holds <c>config.yaml</c> and the keyring under
/// <c>keys/</c>.
/// </summary>
public sealed class DepotHome
{
    public DepotHome(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }

    public string ConfigFile => System.IO.Path.Combine(Path, "config.yaml");

    public string KeysFolder => System.IO.Path.Combine(Path, "keys");

    /// <summary>
    /// The home named by <c>DEPOT_HOME</c> in <paramref name="environment"/>, or <c>$HOME/.depot</c>.
    /// </summary>
    /// <exception cref="DepotException">Neither variable is set.</exception>
    public static DepotHome FromEnvironment(EnvironmentVariables environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var env = environment["DEPOT_HOME"];
        if (!string.IsNullOrWhiteSpace(env))
        {
            return new DepotHome(env);
        }

        var home = environment.UserHome;
        if (string.IsNullOrEmpty(home))
        {
            throw new DepotException(ErrorKind.NotFound, "cannot find a home folder for Depot: set DEPOT_HOME");
        }

        return new DepotHome(System.IO.Path.Combine(home, ".depot"));
    }
}
