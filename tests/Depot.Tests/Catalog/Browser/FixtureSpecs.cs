using Depot.Operations;
using Depot.Storage;

namespace Depot.Tests.Catalog.Browser;

/// <summary>
/// What a fixture cache holds, read from its index the way <c>depot list</c> reads it: the tests pick specs by
/// package name (greet depends on libgreet, which the cache also holds) and never hard-code a hash.
/// </summary>
public sealed class FixtureSpecs
{
    private readonly Dictionary<string, CachedSpec> byName;

    private FixtureSpecs(Dictionary<string, CachedSpec> byName) => this.byName = byName;

    public static async Task<FixtureSpecs> ReadAsync(string mirror, CancellationToken cancellationToken)
    {
        var listed = await ListOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror)),
            new ListOptions([], NeedNodes: true), null, cancellationToken);
        return new FixtureSpecs(listed.Specs.ToDictionary(s => s.Spec.Name, StringComparer.Ordinal));
    }

    /// <summary>Package names of every spec the cache holds.</summary>
    public IReadOnlyCollection<string> Names => byName.Keys;

    /// <summary>The DAG hash of the cache's spec of <paramref name="name"/> (the fixtures hold one each).</summary>
    public string Hash(string name) => byName.TryGetValue(name, out var spec) ? spec.Spec.Hash
        : throw new InvalidOperationException(
            $"the fixture cache holds no {name} (it holds {string.Join(", ", Names)})");

    public string Version(string name) => byName[name].Spec.Version;

    /// <summary>Direct dependencies of <paramref name="name"/> that the cache does not hold (build-only tools,
    /// externals): the spec page shows them without a link.</summary>
    public IReadOnlyList<string> DependenciesNotInCache(string name) => byName[name].Spec.Dependencies
        .Where(d => byName.Values.All(s => s.Spec.Hash != d.Hash)).Select(d => d.Name).ToList();
}
