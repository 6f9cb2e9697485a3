using Depot.Posix;

namespace Depot.InstallTree;

/// <summary>
/// The per-spec install locks one install holds in a Spack tree (<c>install-tree.md</c>): an exclusive one-byte lock
/// in <c>.spack-db/prefix_lock</c> per spec it may install, at the offset Spack derives from the DAG hash. They are
/// taken in hash order, so two installs that need some of the same specs never wait for each other in a circle, and
/// held until the installs are recorded in the database, so a concurrent install (Depot's or Spack's) of the same spec
/// waits and then finds it recorded instead of finding an unrecorded prefix.
/// </summary>
public sealed class PrefixLocks : IDisposable
{
    private readonly List<PosixFileLock> held;

    private PrefixLocks(List<PosixFileLock> held) => this.held = held;

    /// <summary>The lock file: <c>ROOT/.spack-db/prefix_lock</c>.</summary>
    public static string LockFile(string root) => Path.Combine(root, ".spack-db", "prefix_lock");

    /// <summary>Takes the locks of <paramref name="hashes"/>, in hash order; all or none.</summary>
    /// <exception cref="DepotException">A lock was still held by another install after
    /// <paramref name="timeout"/>.</exception>
    public static async Task<PrefixLocks> AcquireAsync(string root, IEnumerable<string> hashes, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.Combine(root, ".spack-db"));
        var held = new List<PosixFileLock>();
        try
        {
            foreach (var hash in hashes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                held.Add(await PosixFileLock.AcquireRangeAsync(LockFile(root), exclusive: true, timeout,
                    InstallDatabaseWriter.HashBitPrefix(hash, 63), 1, cancellationToken).ConfigureAwait(false));
            }
        }
        catch
        {
            held.ForEach(l => l.Dispose());
            throw;
        }

        return new PrefixLocks(held);
    }

    public void Dispose()
    {
        foreach (var l in held)
        {
            l.Dispose();
        }

        held.Clear();
    }
}
