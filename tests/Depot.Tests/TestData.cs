namespace Depot.Tests;

/// <summary>Locates the committed fixture data (tests/data) and makes scratch copies of it.</summary>
public static class TestData
{
    private static readonly Lazy<string> DataRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "tests", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/data not found above " + AppContext.BaseDirectory);
    });

    public const string V3Signed = "spack-1.2/mirror-signed";
    public const string V3Unsigned = "spack-1.2/mirror-unsigned";
    public const string V2Signed = "spack-0.21/mirror-signed";
    public const string V2Unsigned = "spack-0.21/mirror-unsigned";

    public static readonly string[] Mirrors = [V3Signed, V3Unsigned, V2Signed, V2Unsigned];

    public static string Path(string relative) => System.IO.Path.Combine(DataRoot.Value, relative);

    /// <summary>Copies a fixture folder into a fresh temporary directory and returns the copy's path.</summary>
    public static TempDir Copy(string relative)
    {
        var temp = new TempDir();
        CopyTree(Path(relative), temp.Path);
        return temp;
    }

    public static void CopyTree(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(source, dir)));
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var dest = System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(source, file));
            if (new FileInfo(file).LinkTarget is { } link)
            {
                File.CreateSymbolicLink(dest, link); // install trees hold symlinks, some pointing nowhere here
                continue;
            }

            File.Copy(file, dest);
            File.SetAttributes(dest, FileAttributes.Normal);
        }
    }

    /// <summary>Every spec file in the fixture mirrors: v2 spec files and v3 spec blobs.</summary>
    public static IEnumerable<string> SpecFiles()
    {
        foreach (var mirror in Mirrors)
        {
            var root = Path(mirror);
            foreach (var f in Directory.EnumerateFiles(root, "*.spec.json*", SearchOption.AllDirectories))
            {
                yield return f;
            }

            var blobs = System.IO.Path.Combine(root, "blobs");
            if (Directory.Exists(blobs))
            {
                foreach (var f in Directory.EnumerateFiles(blobs, "*", SearchOption.AllDirectories))
                {
                    if (IsGzippedJson(f))
                    {
                        yield return f; // a spec blob (tarball blobs are gzip'd tar, index blobs plain JSON)
                    }
                }
            }
        }
    }

    private static bool IsGzippedJson(string file)
    {
        using var s = File.OpenRead(file);
        if (s.ReadByte() != 0x1f || s.ReadByte() != 0x8b)
        {
            return false;
        }

        s.Position = 0;
        using var gz = new System.IO.Compression.GZipStream(s, System.IO.Compression.CompressionMode.Decompress);
        return gz.ReadByte() == '{';
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "depot-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
