namespace Depot.InstallTree;

/// <summary>
/// Finds the Spack install tree to read: an explicit path, else <c>SPACK_ROOT/opt/spack</c> (the host passes
/// <c>$SPACK_ROOT</c>).
/// </summary>
public static class InstallTreeLocator
{
    /// <exception cref="DepotException">Neither is given, or the place has no Spack database.</exception>
    public static string Resolve(string? installTree, string? spackRoot = null)
    {
        var root = installTree
            ?? (string.IsNullOrWhiteSpace(spackRoot) ? null : Path.Combine(spackRoot, "opt", "spack"));
        if (root is null)
        {
            throw new DepotException(ErrorKind.Usage,
                "no Spack install tree given (the folder holding .spack-db/), and SPACK_ROOT is not set",
                new ErrorHint(HintAction.ChooseInstallTree));
        }

        root = Path.GetFullPath(root);
        if (!File.Exists(InstallDatabase.IndexPath(root)))
        {
            throw new DepotException(ErrorKind.NotFound,
                $"{root}: not a Spack install tree (no "
                + $".spack-db/index.json){(installTree is null ? " (from $SPACK_ROOT)" : "")}");
        }

        return root;
    }
}
