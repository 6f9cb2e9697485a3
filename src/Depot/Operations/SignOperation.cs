using Depot.Layout;
using Depot.Storage;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Operations;

/// <summary>What <see cref="SignOperation"/> did.</summary>
public sealed record SignResult(int Signed, int AlreadySigned, IReadOnlyList<EntryProblem> Problems);

/// <summary>
/// Signs the entries of an existing mirror with a keyring key, as Spack would have at push time: v3 spec manifests
/// are clearsigned in place; v2 spec files get a <c>.spec.json.sig</c> that replaces the plain <c>.spec.json</c>; OCI
/// images (Spack's are never signed) get a signature artifact beside them, the images themselves untouched.
/// Entries already signed by this key are left alone unless <c>force</c>; the JSON text is kept byte for byte.
/// </summary>
public static class SignOperation
{
    /// <summary>
    /// Signs <paramref name="mirror"/>'s entries with <paramref name="key"/>, in the layouts it detected once;
    /// <paramref name="progress"/> hears, per layout, how many of its entries are done (phase <c>sign</c>).
    /// </summary>
    public static async Task<SignResult> RunAsync(Mirror mirror, PgpSecretKey key, bool force, int parallelism = 8,
        IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        var store = mirror.Writable; // a read-only mirror is refused before anything is read
        var signed = 0;
        var already = 0;
        var problems = new List<EntryProblem>();
        foreach (var layout in await mirror.GetLayoutsAsync(cancellationToken).ConfigureAwait(false))
        {
            var writer = layout.CreateWriter(new EntryWriterOptions(key));
            var entries = new List<SpecEntry>();
            await foreach (var entry in layout.ListSpecEntriesAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(entry);
            }

            var done = 0;
            await Parallel.ForEachAsync(entries,
                new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
                async (entry, ct) =>
                {
                    try
                    {
                        if (await writer.SignAsync(entry, force, ct).ConfigureAwait(false))
                        {
                            Interlocked.Increment(ref signed);
                        }
                        else
                        {
                            Interlocked.Increment(ref already);
                        }
                    }
                    catch (DepotException e) when (e.Kind.ConcernsOneEntry())
                    {
                        lock (problems)
                        {
                            problems.Add(new EntryProblem(store.Describe(entry.Key), "skipped entry: " + e.Message,
                                e.Kind, e.Hint));
                        }
                    }

                    progress?.Report(new OperationProgress("sign", Interlocked.Increment(ref done), entries.Count));
                }).ConfigureAwait(false);
        }

        return new SignResult(signed, already, problems.OrderBy(p => p.Location, StringComparer.Ordinal).ToList());
    }
}
