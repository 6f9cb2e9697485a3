using Depot.Storage;

namespace Depot.Tests.Storage;

/// <summary>Issue 14, 9c: what Depot stages outside a mirror is readable by its owner only.</summary>
public sealed class PrivateTempTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StagedUploadsAreOwnerOnlyInAPrivateFolder()
    {
        using var mirror = new TempDir();
        // The default staging every remote store (S3, Azure, GCS) uses.
        await using var staged = new TempFileStagedObject(new LocalDirectoryStore(mirror.Path));
        await staged.Content.WriteAsync("package bytes"u8.ToArray(), Token);
        var file = ((FileStream)staged.Content).Name;
        var folder = Path.GetDirectoryName(file)!;

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(folder));
        Assert.Equal(PrivateTemp.Folder, folder);
        Assert.NotEqual(Path.TrimEndingDirectorySeparator(Path.GetTempPath()), folder);
        Assert.Null(new DirectoryInfo(folder).LinkTarget);
        Assert.StartsWith("depot-staged-", Path.GetFileName(file), StringComparison.Ordinal);

        await staged.CommitAsync("blobs/x", Token);
        Assert.Equal("package bytes", File.ReadAllText(Path.Combine(mirror.Path, "blobs/x")));
    }

    [Fact]
    public async Task SpooledFilesAreOwnerOnlyAndGoneOnceClosed()
    {
        string name;
        await using (var file = PrivateTemp.CreateFile("depot-oci"))
        {
            name = file.Name;
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(name));
        }

        Assert.False(File.Exists(name));
    }
}
