using System.Collections.Concurrent;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>An entry read for installing: its content and where it was read from (for messages).</summary>
internal sealed record VerifiedEntry(EntryContent Content, string Location);

/// <summary>
/// The spec files an install relies on, each read once: signature checked under the source's trust policy (unless
/// <c>--no-verify</c>), the root's DAG hash recomputed and equal to the hash the entry was looked up by, and every
/// other node's DAG hash recomputed too, so no node of the file can say anything its hash does not cover. Everything
/// that decides a path, a database record or a relocation comes from here; mirror indexes (unsigned) only say which
/// hashes exist and where.
/// </summary>
internal sealed class VerifiedEntries
{
    private readonly ConcurrentDictionary<string, VerifiedEntry> entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SpecNode> nodes = new(StringComparer.Ordinal);

    /// <summary>Any node of a spec file read so far, by its (recomputed) hash.</summary>
    public SpecNode? Node(string hash) => nodes.GetValueOrDefault(hash);

    /// <summary>The root node of the entry read for <paramref name="hash"/>, exactly as its own spec file holds
    /// it.</summary>
    public SpecNode? Root(string hash) => entries.GetValueOrDefault(hash)?.Content.Spec.Root;

    /// <summary>Reads (once) the entry filed under <paramref name="spec"/>'s hash in its source.</summary>
    /// <exception cref="DepotException">The entry is missing, malformed, badly signed, or its hashes do not
    /// recompute.</exception>
    public async Task<VerifiedEntry> ReadAsync(CatalogSpec spec, CancellationToken cancellationToken)
    {
        var hash = spec.Spec.Hash;
        if (entries.TryGetValue(hash, out var done))
        {
            return done;
        }

        var store = spec.Source.Store;
        var layout = BuildCache.ForVersion(store, spec.LayoutVersion);
        var entry = await layout.EntryForAsync(spec.Spec, cancellationToken).ConfigureAwait(false);
        var content = await layout.ReadEntryAsync(entry,
            await spec.Source.GetTrustAsync(cancellationToken).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        var location = store.Describe(entry.Key);
        CheckDagHashes(content.Spec, hash, location);

        foreach (var node in content.Spec.Nodes)
        {
            nodes.TryAdd(node.Hash, node);
        }

        var verified = new VerifiedEntry(content, location);
        entries[hash] = verified;
        return verified;
    }

    /// <summary>
    /// The root's DAG hash recomputes to <paramref name="hash"/> (what the entry is filed under) and every other
    /// node's to the hash it states, so no node can say anything its hash does not cover.
    /// </summary>
    /// <exception cref="InvalidContentException">A hash does not recompute.</exception>
    internal static void CheckDagHashes(SpecFile spec, string hash, string location)
    {
        var recomputed = DagHash.Compute(spec.Root.Json);
        if (recomputed != hash)
        {
            throw new InvalidContentException(location,
                $"the spec's DAG hash recomputes to {recomputed}, not the {hash} it is filed under");
        }

        foreach (var node in spec.Nodes.Skip(1))
        {
            if (DagHash.Compute(node.Json) is var nodeHash && nodeHash != node.Hash)
            {
                throw new InvalidContentException(location,
                    $"node {node.Name} says hash {node.Hash}, but its DAG hash recomputes to {nodeHash}");
            }
        }
    }
}
