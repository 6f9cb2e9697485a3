using System.Runtime.ExceptionServices;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>What <see cref="ListEveryMirrorOperation"/> found.</summary>
/// <param name="Listing">Every configured mirror's specs, merged: a spec several mirrors cache is listed once, from the
/// first of them (Depot's mirrors, then Spack's user and site scopes). Its problems include, per mirror that could not
/// be listed, one naming the mirror and why.</param>
/// <param name="Mirrors">The configured mirrors, in that order.</param>
/// <param name="SourceOf">For each listed hash, the name of the mirror it was listed from.</param>
public sealed record EveryMirrorListResult(ListResult Listing, IReadOnlyList<string> Mirrors,
    IReadOnlyDictionary<string, string> SourceOf);

/// <summary>
/// Lists what every configured mirror caches, as <c>spack buildcache list</c> does with no mirror named: each mirror
/// is opened for reading and listed (at the same time), and the results are merged. A mirror that cannot be listed
/// (unreachable, no cache there, refused credentials) is reported as a problem and the others are still listed; when
/// none can be, the first mirror's error is the result.
/// </summary>
public static class ListEveryMirrorOperation
{
    /// <summary>Lists every mirror of <paramref name="engine"/>'s configuration.</summary>
    /// <exception cref="DepotException">No mirror is configured (usage), or no mirror could be listed.</exception>
    public static async Task<EveryMirrorListResult> RunAsync(EngineContext engine, ListOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        var names = engine.Registry.Mirrors.Select(m => m.Name).ToList();
        if (names.Count == 0)
        {
            throw new DepotException(ErrorKind.Usage,
                $"no mirror is configured (in {engine.Home.ConfigFile} or Spack's mirrors.yaml): name the mirror to "
                + "list, or add one with 'depot mirror add NAME URL'");
        }

        var listings = await Task.WhenAll(names.Select(name => ListOneAsync(engine, name, options, cancellationToken)))
            .ConfigureAwait(false);
        if (listings.All(l => l.Error is not null))
        {
            ExceptionDispatchInfo.Capture(listings[0].Error!).Throw();
        }

        var rows = new List<ListingRow>();
        var sourceOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var nodes = new Dictionary<string, CachedSpec>(StringComparer.Ordinal);
        var problems = new List<EntryProblem>();
        foreach (var (name, result, error) in listings)
        {
            if (error is not null)
            {
                problems.Add(new EntryProblem(name, $"mirror '{name}' not listed: {error.Message}",
                    ErrorKinds.Of(error) ?? ErrorKind.IO, (error as DepotException)?.Hint));
                continue;
            }

            problems.AddRange(result!.Problems);
            foreach (var row in result.Rows.Where(r => sourceOf.TryAdd(r.Hash, name)))
            {
                rows.Add(row);
            }

            foreach (var spec in result.Specs.Where(s => sourceOf[s.Spec.Hash] == name))
            {
                nodes.TryAdd(spec.Spec.Hash, spec);
            }
        }

        rows.Sort(ListOperation.DisplayOrder);
        var specs = options.NeedNodes ? rows.Select(r => nodes[r.Hash]).ToList() : [];
        return new EveryMirrorListResult(new ListResult(rows, specs, new Dictionary<int, bool>(), problems), names,
            sourceOf);
    }

    /// <summary>
    /// Whether a host's first positional word names a mirror (a configured name, a URL, an existing path) rather than
    /// a spec query over every configured mirror (<c>depot list zlib@1.3</c>, as <c>spack buildcache list
    /// zlib@1.3</c>). With no mirror configured, or when the word is no spec query, it is taken as a mirror, so its
    /// error says what is wrong with it as a mirror.
    /// </summary>
    public static bool NamesAMirror(EngineContext engine, string word)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(word);
        if (word.Contains("://", StringComparison.Ordinal) || Path.Exists(word) || engine.Registry.Mirrors.Count == 0
            || engine.Registry.Find(word) is not null)
        {
            return true;
        }

        try
        {
            SpecQuery.Parse(word);
            return false;
        }
        catch (DepotException)
        {
            return true;
        }
    }

    private static async Task<(string Name, ListResult? Result, Exception? Error)> ListOneAsync(EngineContext engine,
        string name, ListOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var mirror = engine.Open(name, MirrorPurpose.Read);
            return (name, await ListOperation.RunAsync(mirror, options, null, cancellationToken).ConfigureAwait(false),
                null);
        }
        catch (Exception e) when (ErrorKinds.Of(e) is not null)
        {
            return (name, null, e);
        }
    }
}
