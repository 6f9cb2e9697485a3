using Depot.Catalog;
using Depot.Configuration;
using Depot.Operations;
using Depot.Storage;

namespace Depot.Tests.Catalog;

/// <summary>
/// <see cref="CacheCatalog"/> over the real Spack 1.2 and 0.21 fixture caches (signed and unsigned): what the spec page
/// shows (signature state under three trusts, dependencies and dependents, tarball sizes, push time, install
/// commands), the keys, the summary and the activity.
/// </summary>
public class CacheCatalogTests
{
    internal const string Fingerprint = "6640D90F8A1E84DD1142614C06BD5C3F48A372CC";
    internal const string GreetV3 = "ilccysmlleizqaxfvvqsb6selpnnszug";
    internal const string LibgreetV3 = "45qqyrdm2lgdwkith6pdxfyacbtymalw";
    internal const string GccRuntimeV3 = "vkw5xvdpe5yect3sehzv5inhyvrgavno";
    internal const string GreetV2 = "tnhxyeebiakcjb3lvymiwx63ueuccyl6";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    internal static CacheCatalog Catalog(string mirror, string home, IReadOnlyList<string>? extraTrusted = null,
        TimeProvider? clock = null) =>
        new(Mirror.Of(new LocalDirectoryStore(mirror), name: "c"), new DepotHome(home).KeysFolder,
            new IndexCache(Path.Combine(home, "indexes")), new CatalogOptions("c", true, extraTrusted, null, clock));

    [Fact]
    public async Task ASignedSpecWhoseKeyTheHomeTrustsIsTrustedWithItsDagSizesAndCommands()
    {
        using var home = new TempDir();
        TestData.FixtureKeyring(home.Path);
        using var catalog = Catalog(TestData.Path(TestData.V3Signed), home.Path);

        var spec = await catalog.GetSpecAsync(GreetV3, "http://depot.example:8080/c/", Token);

        Assert.NotNull(spec);
        Assert.Equal(SignatureState.Trusted, spec.Signature.State);
        Assert.Equal(Fingerprint, spec.Signature.Fingerprint);
        Assert.False(string.IsNullOrEmpty(spec.Signature.UserId));
        Assert.NotNull(spec.Signature.SignedAt);
        Assert.Equal(("greet", "1.0.0", 3), (spec.Row.Name, spec.Row.Version, spec.Row.Layout));
        var libgreet = Assert.Single(spec.Dependencies, d => d.Name == "libgreet");
        Assert.Equal((LibgreetV3, "build,link", true), (libgreet.Hash, libgreet.Types, libgreet.InCache));
        var gcc = Assert.Single(spec.Dependencies, d => d.Name == "gcc");
        Assert.False(gcc.InCache); // an external: recorded in the index, not in the cache
        Assert.Equal(GreetV3, spec.Graph.Nodes[0].Hash);
        Assert.Contains(spec.Graph.Nodes, n => n.Name == "glibc");
        Assert.Contains((LibgreetV3, GccRuntimeV3), spec.Graph.Edges);
        Assert.Empty(spec.Dependents);

        Assert.Equal(7831, spec.CompressedBytes); // the tarball record's contentLength
        Assert.True(spec.UncompressedBytes > spec.CompressedBytes, $"{spec.UncompressedBytes}");
        Assert.NotNull(spec.PushedAt);

        Assert.Equal("http://depot.example:8080/c/", spec.Install.MirrorUrl);
        Assert.Equal("spack mirror add c http://depot.example:8080/c/ && spack buildcache keys --install --trust && "
            + $"spack install --use-buildcache only /{GreetV3}", spec.Install.Spack);
        Assert.Equal($"depot install /{GreetV3} --from http://depot.example:8080/c/", spec.Install.Depot);
        Assert.Contains($"- /{GreetV3}", spec.Install.SpackYaml, StringComparison.Ordinal);
        Assert.DoesNotContain("signed: false", spec.Install.SpackYaml, StringComparison.Ordinal);

        var lib = await catalog.GetSpecAsync(LibgreetV3, "http://h/c/", Token);
        var dependent = Assert.Single(lib!.Dependents);
        Assert.Equal(("greet", "1.0.0", GreetV3, "build,link"),
            (dependent.Name, dependent.Version, dependent.Hash, dependent.Types));
    }

    [Fact]
    public async Task ASignatureByAKeyNotTrustedHereIsUntrustedWithTheSignersFingerprintAndUserId()
    {
        using var home = new TempDir();
        using var catalog = Catalog(TestData.Path(TestData.V3Signed), home.Path);

        var spec = await catalog.GetSpecAsync(GreetV3, "http://h/c/", Token);

        Assert.Equal(SignatureState.Untrusted, spec!.Signature.State);
        Assert.Equal(Fingerprint, spec.Signature.Fingerprint);
        Assert.False(string.IsNullOrEmpty(spec.Signature.UserId)); // from the key the cache publishes
        var key = Assert.Single(await catalog.GetKeysAsync(Token));
        Assert.False(key.Trusted);
    }

    [Fact]
    public async Task PinnedFingerprintsRestrictTheKeyringAsTheyDoForPushes()
    {
        using var home = new TempDir();
        TestData.FixtureKeyring(home.Path);
        using var catalog = Catalog(TestData.Path(TestData.V3Signed), home.Path, [new string('A', 40)]);

        var spec = await catalog.GetSpecAsync(GreetV3, "http://h/c/", Token);

        Assert.Equal(SignatureState.Untrusted, spec!.Signature.State);
        Assert.False(Assert.Single(await catalog.GetKeysAsync(Token)).Trusted);
    }

    [Fact]
    public async Task AnExtraTrustedFingerprintTrustsTheCachesPublishedKey()
    {
        using var home = new TempDir();
        using var catalog = Catalog(TestData.Path(TestData.V3Signed), home.Path, [Fingerprint]);

        Assert.Equal(SignatureState.Trusted, (await catalog.GetSpecAsync(GreetV3, "http://h/c/", Token))!
            .Signature.State);
        var key = Assert.Single(await catalog.GetKeysAsync(Token));
        Assert.Equal((Fingerprint, true), (key.Fingerprint, key.Trusted));
        Assert.StartsWith("blobs/sha256/", key.Download, StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----",
            File.ReadAllText(Path.Combine(TestData.Path(TestData.V3Signed), key.Download)), StringComparison.Ordinal);
        Assert.NotNull(key.Created);
    }

    [Fact]
    public async Task AnUnsignedSpecIsUnsignedAndItsCommandsAddTheMirrorUnsigned()
    {
        using var home = new TempDir();
        TestData.FixtureKeyring(home.Path);
        using var catalog = Catalog(TestData.Path(TestData.V3Unsigned), home.Path);

        var spec = await catalog.GetSpecAsync(GreetV3, "http://h/c/", Token);

        Assert.Equal(new SignatureInfo(SignatureState.Unsigned, null, null, null), spec!.Signature);
        Assert.StartsWith("spack mirror add --unsigned c http://h/c/ && ", spec.Install.Spack,
            StringComparison.Ordinal);
        Assert.Contains("signed: false", spec.Install.SpackYaml, StringComparison.Ordinal);
        Assert.Empty(await catalog.GetKeysAsync(Token));
    }

    [Fact]
    public async Task ASignedManifestChangedAfterSigningIsInvalid()
    {
        using var home = new TempDir();
        TestData.FixtureKeyring(home.Path);
        using var copy = TestData.Copy(TestData.V3Signed);
        var manifest = Directory.EnumerateFiles(copy.Combine("v3", "manifests", "spec", "greet")).Single();
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"contentLength\":7831",
            "\"contentLength\":7832", StringComparison.Ordinal));
        using var catalog = Catalog(copy.Path, home.Path);

        var spec = await catalog.GetSpecAsync(GreetV3, "http://h/c/", Token);

        Assert.Equal(SignatureState.Invalid, spec!.Signature.State);
        Assert.Equal(Fingerprint, spec.Signature.Fingerprint);
    }

    [Fact]
    public async Task AV2SpecFileIsReadLikewise()
    {
        using var home = new TempDir();
        TestData.FixtureKeyring(home.Path);
        using var catalog = Catalog(TestData.Path(TestData.V2Signed), home.Path);

        var spec = await catalog.GetSpecAsync(GreetV2, "http://h/c/", Token);

        Assert.Equal(SignatureState.Trusted, spec!.Signature.State);
        Assert.Equal(2, spec.Row.Layout);
        var tarball = Directory.EnumerateFiles(TestData.Path(TestData.V2Signed), $"*{GreetV2}.spack",
            SearchOption.AllDirectories).Single();
        Assert.Equal(new FileInfo(tarball).Length, spec.CompressedBytes);
        Assert.True(spec.UncompressedBytes > spec.CompressedBytes);
        var key = Assert.Single(await catalog.GetKeysAsync(Token));
        Assert.Equal($"build_cache/_pgp/{Fingerprint}.pub", key.Download);
        Assert.True(key.Trusted);
    }

    [Fact]
    public async Task ATarballMissingFromTheStoreHasNoSizesAndUnknownHashesAnswerNull()
    {
        using var home = new TempDir();
        using var catalog = Catalog(TestData.Path(TestData.V3Signed), home.Path);

        // The repository leaves out gcc-runtime's 10 MiB tarball blob (TestData.InstallableV3).
        var spec = await catalog.GetSpecAsync(GccRuntimeV3, "http://h/c/", Token);

        Assert.Null(spec!.CompressedBytes);
        Assert.Null(spec.UncompressedBytes);
        Assert.Null(await catalog.GetSpecAsync("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "http://h/c/", Token));
        Assert.Null(await catalog.GetPackageAsync("nosuchpackage", Token));
    }

    [Fact]
    public async Task TheSummaryCountsFromTheIndexAndSizesFromOneListingAndActivityIsNewestFirst()
    {
        using var home = new TempDir();
        using var copy = TestData.Copy(TestData.V3Signed);
        var greet = Directory.EnumerateFiles(copy.Combine("v3", "manifests", "spec", "greet")).Single();
        var pushed = new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(greet, pushed);
        using var catalog = Catalog(copy.Path, home.Path);

        var summary = await catalog.GetSummaryAsync(Token);

        Assert.Equal(("c", true, 5, 5), (summary.Name, summary.Public, summary.Specs, summary.Packages));
        Assert.Equal([3], summary.Layouts);
        Assert.Equal(Directory.EnumerateFiles(copy.Path, "*", SearchOption.AllDirectories)
            .Sum(f => new FileInfo(f).Length), summary.TotalBytes);
        Assert.Equal(new DateTimeOffset(pushed), summary.LastPush);
        var activity = await catalog.GetActivityAsync(3, Token);
        Assert.Equal(3, activity.Count);
        Assert.Equal(("greet", "1.0.0", GreetV3), (activity[0].Name, activity[0].Version, activity[0].Hash));
        Assert.Equal(new DateTimeOffset(pushed), activity[0].PushedAt);
    }

    [Fact]
    public async Task PackagesArePagedByNameAndAPackageHasItsSpecs()
    {
        using var home = new TempDir();
        using var catalog = Catalog(TestData.Path(TestData.V2Unsigned), home.Path);

        var first = await catalog.GetPackagesAsync(0, 2, Token);
        var rest = await catalog.GetPackagesAsync(2, 50, Token);

        Assert.Equal(3, first.Total);
        Assert.Equal(["greet", "greet-data"], first.Packages.Select(p => p.Name));
        Assert.Equal(["libgreet"], rest.Packages.Select(p => p.Name));
        Assert.Equal(["1.0.0"], first.Packages[0].Versions);
        var package = await catalog.GetPackageAsync("greet", Token);
        Assert.Equal(GreetV2, Assert.Single(package!.Specs).Hash);
    }
}
