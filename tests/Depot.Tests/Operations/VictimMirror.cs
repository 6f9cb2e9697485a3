using Depot.Operations;
using Depot.Tests.InstallTree;

namespace Depot.Tests.Operations;

/// <summary>
/// A one-package v3 mirror (package "victim", unsigned) pushed from a tree made in <c>folder/tree</c>: the starting
/// point of the hostile-cache tests, which then replace its tarball or manifest.
/// </summary>
/// <param name="Mirror">The mirror folder, <c>folder/mirror</c>.</param>
/// <param name="Prefix">The package's prefix in the tree it was pushed from (what its tarball's members start
/// with).</param>
/// <param name="ManifestKey">The path of its spec manifest.</param>
public sealed record VictimMirror(string Mirror, string Prefix, string ManifestKey)
{
    public static VictimMirror Create(string folder)
    {
        var builder = new InstallTreeBuilder(Path.Combine(folder, "tree"));
        var hash = builder.Add("victim", "1.0", p => PushOperationTests.WriteFile(p, "share/victim.txt", "victim\n"));
        builder.WriteDatabase();
        var mirror = Path.Combine(folder, "mirror");
        PushOperationTests.PushAsync(builder.Root, mirror, new PushOptions()).GetAwaiter().GetResult();
        var manifest = Directory.GetFiles(Path.Combine(mirror, "v3/manifests/spec"), "*.json",
            SearchOption.AllDirectories).Single();
        return new VictimMirror(mirror, builder.Prefix("victim", "1.0", hash), manifest);
    }
}
