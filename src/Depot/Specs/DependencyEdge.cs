namespace Depot.Specs;

/// <summary>Spack's dependency types, in the order Spack writes them.</summary>
[Flags]
public enum DepTypes
{
    None = 0,
    Build = 1,
    Link = 2,
    Run = 4,
    Test = 8,
}

/// <summary>One edge from a node to a dependency, as recorded in the node's <c>dependencies</c> list.</summary>
/// <param name="Name">Package name of the dependency.</param>
/// <param name="Hash">DAG hash of the dependency node.</param>
/// <param name="Types">Edge types (build, link, run, test).</param>
/// <param name="Virtuals">Virtual packages this edge provides (<c>c</c>, <c>mpi</c>, ...), possibly empty.</param>
/// <param name="Direct">Spec format 5: the edge was requested directly (<c>%gcc</c> syntax).</param>
public sealed record DependencyEdge(string Name, string Hash, DepTypes Types, IReadOnlyList<string> Virtuals,
    bool Direct)
{
    public static DepTypes ParseType(string type) => type switch
    {
        "build" => DepTypes.Build,
        "link" => DepTypes.Link,
        "run" => DepTypes.Run,
        "test" => DepTypes.Test,
        _ => DepTypes.None,
    };
}
