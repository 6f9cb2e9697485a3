using System.Buffers;
using System.Diagnostics;
using Depot.Archive;
using Depot.Formats;
using Depot.InstallTree;
using Depot.Layout;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Operations;

/// <summary>
/// Writes one installed spec as a build cache entry, in one streaming pass: the prefix is tarred, gzip'd and hashed
/// straight into a staged object; the layout's writer (<see cref="IBuildCacheWriter"/>) then writes the entry's
/// metadata last, so readers never see it before its data.
/// </summary>
/// <param name="db">The install tree's database.</param>
/// <param name="layout">The layout pushed (v2 as Spack 0.21 archives prefixes without parent directories).</param>
/// <param name="entries">The mirror's writer.</param>
/// <param name="spackPrefix">Spack's own prefix, for the build info (null: derived from the root).</param>
internal sealed class PushEntryWriter(InstallDatabase db, PushLayout layout, IBuildCacheWriter entries,
    string? spackPrefix)
{
    /// <summary>Build and local prefix of an installed node, for OCI images' search paths.</summary>
    public static Func<SpecNode, (string Build, string Local)?> Prefixes(InstallDatabase db) =>
        node => db.Find(node.Hash) is { Path: { } path } r ? (path, db.LocalPrefix(r)) : null;

    /// <summary>True when the mirror holds a complete entry for the spec (signed, if this push signs).</summary>
    public Task<bool> ExistsAsync(InstallRecord record, CancellationToken cancellationToken) =>
        entries.ExistsAsync(record.Spec, cancellationToken);

    /// <exception cref="DepotException">The prefix or its spec cannot be read.</exception>
    /// <exception cref="IOException">A file could not be read or the store could not be written.</exception>
    public async Task<PushOutcome> PushAsync(InstallRecord record, IProgress<PushProgress>? progress,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var spec = record.Spec;
        var localPrefix = db.LocalPrefix(record);
        if (!Directory.Exists(localPrefix))
        {
            throw new DepotException(ErrorKind.NotFound,
                $"{localPrefix}: install prefix of {spec.Name}/{spec.Hash[..7]} is missing");
        }

        var specDocument = await ReadSpecAsync(record, localPrefix, cancellationToken).ConfigureAwait(false);
        var request = ArchiveRequest(record, localPrefix);
        var total = PrefixArchiver.ContentSize(localPrefix);
        progress?.Report(new PushProgress(spec.Name, spec.Hash, 0, total));

        await using var staged = await entries.CreateStagedAsync(cancellationToken).ConfigureAwait(false);
        string checksum;
        long length;
        string? diffId = null;
        await using (var hashing = new ChecksumStream(staged.Content, leaveOpen: true))
        {
            await using (var gzip = SpackGzip.CreateCompressor(hashing, leaveOpen: true))
            {
                // OCI images also name each layer by the sha256 of its uncompressed tar (rootfs.diff_ids).
                await using var uncompressed = entries.NeedsTarDigest
                    ? new ChecksumStream(gzip, leaveOpen: true)
                    : null;
                await using (var tar = new PythonTarWriter((Stream?)uncompressed ?? gzip, leaveOpen: true))
                {
                    await PrefixArchiver.WriteAsync(tar, request,
                        done => progress?.Report(new PushProgress(spec.Name, spec.Hash, done, total)),
                        cancellationToken).ConfigureAwait(false);
                    await tar.CloseAsync(cancellationToken).ConfigureAwait(false);
                }

                diffId = uncompressed?.Sha256Hex();
            }

            checksum = hashing.Sha256Hex();
            length = hashing.BytesWritten;
        }

        var tarball = new StagedTarball(staged, checksum, length, diffId);
        await entries.WriteAsync(specDocument, tarball, cancellationToken).ConfigureAwait(false);

        return new PushOutcome(spec.Name, spec.Hash, SpecFormatter.Short(spec), PushStatus.Pushed, null, total, length,
            clock.Elapsed);
    }

    private PrefixArchiveRequest ArchiveRequest(InstallRecord record, string localPrefix)
    {
        var root = db.RecordedRoot;
        var spack021 = layout == PushLayout.V2;
        var hashToPrefix = RelocationPrefixes.HashToPrefix(db, record, depthFirst: spack021);
        var sbang = RelocationPrefixes.SbangPath(root);
        var matcher = new PrefixMatcher(hashToPrefix.Select(p => p.Value).Append(sbang).Append(root));
        var template = new BuildInfo(sbang, root, RelocationPrefixes.SpackPrefix(root, spackPrefix),
            Path.GetRelativePath(root, record.Path!).Replace('\\', '/'), hashToPrefix, [], [], []);
        return new PrefixArchiveRequest(localPrefix, record.Path!, IncludeParentDirectories: !spack021, matcher,
            spack021 ? BuildInfoStyle.Block : BuildInfoStyle.Flow, template);
    }

    // The prefix's own .spack/spec.json is what Spack caches; if it is missing or names another spec, the database's
    // nodes are assembled into the same shape (root first, then dependencies depth-first in name order).
    private async Task<SpecFile> ReadSpecAsync(InstallRecord record, string localPrefix,
        CancellationToken cancellationToken)
    {
        var path = Path.Combine(localPrefix, ".spack", "spec.json");
        if (File.Exists(path))
        {
            try
            {
                var file = SpecFile.Parse(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false),
                    path);
                if (file.Root.Hash == record.Spec.Hash)
                {
                    return file;
                }
            }
            catch (InvalidContentException)
            {
                // Fall back to the database below.
            }
        }

        var buffer = new ArrayBufferWriter<byte>();
        var json = new PythonJsonWriter(buffer);
        json.StartObject();
        json.WritePropertyName("spec");
        json.StartObject();
        json.WritePropertyName("_meta");
        json.StartObject();
        json.WriteNumber("version", db.Version >= 8 ? 5 : 4);
        json.EndObject();
        json.WritePropertyName("nodes");
        json.StartArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<InstallRecord>([record]);
        while (stack.Count > 0)
        {
            var r = stack.Pop();
            if (!seen.Add(r.Spec.Hash))
            {
                continue;
            }

            json.WriteElement(r.Spec.Json);
            foreach (var edge in r.Spec.Dependencies.OrderByDescending(e => e.Name, StringComparer.Ordinal))
            {
                var dep = db.Find(edge.Hash) ?? throw new DepotException(
                    $"{InstallDatabase.IndexPath(db.Root)}: {record.Spec.Name}/{record.Spec.Hash[..7]} depends on "
                    + $"{edge.Name}/{edge.Hash[..7]}, which the database does not hold");
                stack.Push(dep);
            }
        }

        json.EndArray();
        json.EndObject();
        json.EndObject();
        return SpecFile.Parse(buffer.WrittenSpan, InstallDatabase.IndexPath(db.Root));
    }
}
