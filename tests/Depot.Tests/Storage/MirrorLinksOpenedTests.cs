using Depot.Storage;

namespace Depot.Tests.Storage;

/// <summary>
/// The check after opening a mirror file (<c>MirrorLinks.CheckOpened</c>) against what other writers do meanwhile:
/// a file replaced by another writer's atomic rename after it was opened is still the file asked for
/// (bench/concurrency.sh saw `depot index` refuse the index manifest `depot serve` had just replaced), while one moved
/// out of the mirror is not.
/// </summary>
public sealed class MirrorLinksOpenedTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void AFileReplacedAfterItWasOpenedPasses()
    {
        var root = MirrorLinks.RealPath(temp.Path);
        var path = Path.Combine(root, "index.manifest.json");
        File.WriteAllText(path, "old");
        using var handle = File.OpenHandle(path);
        File.WriteAllText(path + ".tmp", "new");
        File.Move(path + ".tmp", path, overwrite: true); // the other writer's atomic replace

        MirrorLinks.CheckOpened(handle, path, root, "index.manifest.json");

        var buffer = new byte[3];
        Assert.Equal(3, RandomAccess.Read(handle, buffer, 0));
        Assert.Equal("old"u8.ToArray(), buffer);
    }

    [Fact]
    public void AFileMovedElsewhereAfterItWasOpenedIsRefused()
    {
        var root = MirrorLinks.RealPath(temp.Path);
        Directory.CreateDirectory(Path.Combine(root, "mirror"));
        var path = Path.Combine(root, "mirror", "index.manifest.json");
        File.WriteAllText(path, "old");
        using var handle = File.OpenHandle(path);
        File.Move(path, Path.Combine(root, "elsewhere.json"));

        var e = Assert.Throws<DepotException>(() =>
            MirrorLinks.CheckOpened(handle, path, Path.Combine(root, "mirror"), "index.manifest.json"));
        Assert.Equal($"{path}: opened {Path.Combine(root, "elsewhere.json")}, which is not inside the mirror; "
            + "Depot does not follow links inside a mirror", e.Message);
    }
}
