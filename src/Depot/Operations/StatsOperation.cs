using System.Diagnostics;
using Depot.Layout;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>Options of <see cref="StatsOperation"/>.</summary>
/// <param name="Top">How many of the largest packages to name.</param>
/// <param name="Parallelism">Entries read at once where sizes need a read (v3 manifests, OCI images).</param>
public sealed record StatsOptions(int Top = 10, int Parallelism = 16);

/// <summary>A name (architecture, compiler) and how many specs have it.</summary>
public sealed record NamedCount(string Name, int Count);

/// <summary>One entry, for the largest, oldest and newest: its spec, tarball size and when it was written.</summary>
public sealed record EntryFigure(string Name, string Version, string Hash, long TarballBytes, long Bytes,
    DateTimeOffset? LastModified);

/// <summary>What one layout of a mirror holds.</summary>
/// <param name="Layout">"v3", "v2" or "oci".</param>
/// <param name="Specs">Specs the layout holds: its entries, and what its index lists.</param>
/// <param name="Packages">Distinct package names among them.</param>
/// <param name="Architectures">Specs per architecture (platform-os-target), most first.</param>
/// <param name="Compilers">Specs per compiler label (as <c>depot list</c> heads them), most first.</param>
/// <param name="TotalBytes">Sum over entries of the objects each is made of (metadata and tarball).</param>
/// <param name="UniqueBytes">The same with every stored object counted once (v3 blobs and OCI layers are
/// content-addressed, so several entries may share one).</param>
/// <param name="Entries">Entries whose size is known (found in the store).</param>
/// <param name="Largest">The entries with the largest tarballs, largest first.</param>
/// <param name="Oldest">The entry written longest ago, when the store gives times.</param>
/// <param name="Newest">The entry written last, when the store gives times.</param>
/// <param name="FromIndex">True when the specs' names came from the index (else each entry was read).</param>
public sealed record LayoutStats(string Layout, int Specs, int Packages, IReadOnlyList<NamedCount> Architectures,
    IReadOnlyList<NamedCount> Compilers, long TotalBytes, long UniqueBytes, int Entries,
    IReadOnlyList<EntryFigure> Largest, EntryFigure? Oldest, EntryFigure? Newest, bool FromIndex);

/// <summary>What <see cref="StatsOperation"/> found: a section per layout the mirror holds, newest layout
/// first.</summary>
public sealed record StatsResult(IReadOnlyList<LayoutStats> Layouts, IReadOnlyList<EntryProblem> Problems,
    TimeSpan Elapsed);

/// <summary>
/// <c>depot stats</c>: what a build cache holds and what it costs. Specs, packages, architectures and compilers come
/// from the index (each entry is read only where there is none, or it is unreadable, or an entry is missing from
/// it); sizes and times from one listing of the store where it gives them (v2), else from each entry's small
/// metadata object (v3 manifests and OCI image manifests name the blobs an entry is made of; see
/// <see cref="EntrySizes"/>). Tarballs are never read.
/// </summary>
public static class StatsOperation
{
    /// <summary>Counts what <paramref name="mirror"/> holds, in every layout it has.</summary>
    public static async Task<StatsResult> RunAsync(Mirror mirror, StatsOptions options,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var problems = new List<EntryProblem>();
        var sections = new List<LayoutStats>();
        foreach (var layout in await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false))
        {
            sections.Add(await LayoutAsync(mirror, layout, options, problems, progress, cancellationToken)
                .ConfigureAwait(false));
        }

        return new StatsResult(sections, problems, clock.Elapsed);
    }

    private static async Task<LayoutStats> LayoutAsync(Mirror mirror, IBuildCacheLayout layout, StatsOptions options,
        List<EntryProblem> problems, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var entries = await layout.ListSpecEntriesAsync(cancellationToken).ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        var index = await ReadIndexAsync(mirror, layout, problems, cancellationToken).ConfigureAwait(false);
        var specs = new Dictionary<string, (SpecNode Node, Func<string, SpecNode?> Resolve)>(StringComparer.Ordinal);
        foreach (var node in index?.CachedSpecs ?? [])
        {
            specs[node.Hash] = (node, h => index!.Find(h)?.Spec);
        }

        // Entries the index does not know (pushed without an index update, or no index at all) are read.
        var unknown = entries.Where(e => !specs.ContainsKey(e.Hash)).ToList();
        if (unknown.Count > 0)
        {
            var (read, bad) = await EntryReader.ReadAllAsync(layout, unknown, options.Parallelism, progress, "read",
                cancellationToken).ConfigureAwait(false);
            problems.AddRange(bad);
            foreach (var (_, spec) in read)
            {
                specs[spec.Root.Hash] = (spec.Root, spec.FindByHash);
            }
        }

        var (sizes, sizeProblems) = await EntrySizes.ReadAsync(layout, entries, options.Parallelism, progress,
            cancellationToken).ConfigureAwait(false);
        problems.AddRange(sizeProblems);

        var figures = sizes.Where(s => specs.ContainsKey(s.Key))
            .Select(s => Figure(specs[s.Key].Node, s.Value)).ToList();
        var unique = sizes.Values.SelectMany(s => s.Objects).DistinctBy(o => o.Id, StringComparer.Ordinal)
            .Sum(o => o.Length);
        var dated = figures.Where(f => f.LastModified is not null)
            .OrderBy(f => f.LastModified).ThenBy(f => f.Hash, StringComparer.Ordinal).ToList();
        return new LayoutStats(layout.Name, specs.Count,
            specs.Values.Select(s => s.Node.Name).Distinct(StringComparer.Ordinal).Count(),
            Counts(specs.Values.Select(s => s.Node.Architecture)),
            Counts(specs.Values.Select(s => SpecFormatter.CompilerLabel(s.Node, s.Resolve))),
            sizes.Values.Sum(s => s.Bytes), unique, sizes.Count,
            figures.OrderByDescending(f => f.TarballBytes).ThenBy(f => f.Name, StringComparer.Ordinal)
                .ThenBy(f => f.Hash, StringComparer.Ordinal).Take(Math.Max(0, options.Top)).ToList(),
            dated.FirstOrDefault(), dated.LastOrDefault(), index is not null);
    }

    private static EntryFigure Figure(SpecNode node, EntrySize size) =>
        new(node.Name, node.Version, node.Hash, size.TarballBytes, size.Bytes, size.LastModified);

    private static List<NamedCount> Counts(IEnumerable<string> names) =>
        names.GroupBy(n => n, StringComparer.Ordinal).Select(g => new NamedCount(g.Key, g.Count()))
            .OrderByDescending(c => c.Count).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();

    // A broken index must not stop the count: say so, and the entries are read instead.
    private static async Task<BuildCacheIndex?> ReadIndexAsync(Mirror mirror, IBuildCacheLayout layout,
        List<EntryProblem> problems, CancellationToken cancellationToken)
    {
        try
        {
            return await layout.ReadIndexAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidContentException e)
        {
            problems.Add(new EntryProblem(e.Location, e.Message + " (index unreadable: read the entries instead)",
                e.Kind, ErrorHint.RebuildIndex(mirror.Name)));
            return null;
        }
    }
}
