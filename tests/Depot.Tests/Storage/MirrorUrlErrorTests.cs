using Depot.Storage;
using Depot.Storage.Providers;

namespace Depot.Tests.Storage;

/// <summary>
/// Mirror locations the engine's own providers refuse before any I/O, each in one usage line that says what the URL
/// or path lacks: a file:// URL with a host, an http(s):// or oci:// URL with nothing after the scheme, a directory
/// path that is (or lies below) a file.
/// </summary>
public class MirrorUrlErrorTests
{
    [Theory]
    [InlineData("file://relative/path",
        "'file://relative/path' is not a directory URL: 'relative' stands where a file:// URL has its host; write "
        + "file:///ABSOLUTE/PATH (three slashes), or give the directory path itself (relative/path)")]
    [InlineData("file://", "'file://' is not a valid file:// URL (file:///ABSOLUTE/PATH)")]
    [InlineData("https://", "'https://' is not a valid mirror URL: it names no host (http(s)://HOST[:PORT]/PATH)")]
    [InlineData("oci://", "'oci://' names no registry and no repository (oci://HOST[:PORT]/REPOSITORY)")]
    [InlineData("oci+http:///",
        "'oci+http:///' names no registry and no repository (oci+http://HOST[:PORT]/REPOSITORY)")]
    public void AUrlMissingItsPartsIsOneUsageError(string url, string message)
    {
        var e = Assert.Throws<DepotException>(() => StoreProviders.Builtin.Open(url));
        Assert.Equal((ErrorKind.Usage, message), (e.Kind, e.Message));
    }

    [Fact]
    public void AFileUrlOfAnAbsolutePathOrOnLocalhostIsThatDirectory()
    {
        using var dir = new TempDir();
        Assert.Equal(dir.Path, StoreProviders.Builtin.Open("file://" + dir.Path).Root);
        Assert.Equal(dir.Path, StoreProviders.Builtin.Open("file://localhost" + dir.Path).Root);
    }

    [Fact]
    public void ADirectoryPathThatIsOrLiesBelowAFileIsRefusedNamingTheFile()
    {
        using var dir = new TempDir();
        var file = dir.Combine("plain");
        File.WriteAllText(file, "x");

        var itself = Assert.Throws<DepotException>(() => StoreProviders.Builtin.Open(file));
        Assert.Equal((ErrorKind.Usage, $"{file}: is a file, not a directory: a mirror is a directory (or a URL)"),
            (itself.Kind, itself.Message));
        var below = Assert.Throws<DepotException>(() => StoreProviders.Builtin.Open(file + "/cache/v3"));
        Assert.Equal($"{file}/cache/v3: {file} is a file, not a directory: a mirror is a directory (or a URL)",
            below.Message);
        Assert.IsType<LocalDirectoryStore>(StoreProviders.Builtin.Open(dir.Combine("not", "yet")));
    }
}
