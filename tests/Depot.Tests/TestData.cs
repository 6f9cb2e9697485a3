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

    /// <summary>
    /// A copy of a Spack 1.2 fixture mirror that can be installed from. The repository leaves out gcc-runtime's 10 MiB
    /// tarball blob; here gcc-runtime (same hash, same spec blob) is re-pushed from the committed install tree, whose
    /// gcc-runtime keeps two of its libraries, signed with the fixture key when the mirror is signed. greet, libgreet
    /// and greet-data stay Spack's own entries.
    /// </summary>
    public static TempDir InstallableV3(string mirror)
    {
        var copy = Copy(mirror);
        var home = new TempDir();
        try
        {
            var keyring = FixtureKeyring(home.Path);
            var key = mirror == V3Signed ? keyring.SigningKey() : null;
            var db = Depot.InstallTree.InstallDatabase.ReadAsync(Path("spack-1.2/install-tree")).GetAwaiter()
                .GetResult();
            var plan = Depot.InstallTree.PushSelection.Select(db, [Depot.Specs.SpecQuery.Parse("gcc-runtime")],
                all: false, Depot.InstallTree.PushParts.Package);
            var target = Depot.Operations.Mirror.Of(new Depot.Storage.LocalDirectoryStore(copy.Path),
                signing: new Depot.Operations.SigningChoice(key, null), layout: Depot.Operations.PushLayout.V3);
            Depot.Operations.PushOperation.RunAsync(target, db, plan, new Depot.Operations.PushOptions(Force: true,
                UpdateIndex: false))
                .GetAwaiter().GetResult();
            return copy;
        }
        finally
        {
            home.Dispose();
        }
    }

    /// <summary>A keyring in <paramref name="home"/> holding the fixture key pair (fpr 6640D90F…), which can
    /// sign.</summary>
    public static Depot.Signing.Keyring FixtureKeyring(string home)
    {
        var keyring = Depot.Signing.Keyring.Open(new Depot.Configuration.DepotHome(home).KeysFolder);
        keyring.Import(File.ReadAllText(Path("spack-1.2/keys/secret.asc")), "secret.asc", "test");
        return keyring;
    }

    /// <summary>Signatures required, by the keys <paramref name="keyring"/> trusts.</summary>
    public static Depot.Signing.TrustPolicy Trusting(Depot.Signing.Keyring keyring, string mirror) =>
        new(mirror, new Depot.Signing.SignatureVerifier(keyring.TrustedRings()), requireSignature: true);

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
