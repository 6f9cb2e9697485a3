using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.InstallTree;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Layout.Oci;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage.Oci;
using Depot.Tests.Storage;

namespace Depot.Tests.Operations;

/// <summary>Spack's OCI layout in a real registry: the cache Spack 1.2 pushed, and what Depot pushes and
/// signs.</summary>
public sealed class OciBuildCacheTests(DockerRegistry registry) : IClassFixture<DockerRegistry>
{
    private const string Tree12 = "spack-1.2/install-tree";
    private const string Greet = "greet-1.0.0-ilccysmlleizqaxfvvqsb6selpnnszug.spack";

    // The Spack checkout that pushed the OCI fixture (only its build info's spackprefix records it).
    private const string SpackPrefixOfFixture = "/tmp/s12p/spack";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private OciStore NewRepository() =>
        new(OciReference.Parse(registry.Url("ops/r" + Guid.NewGuid().ToString("N")[..10])));

    internal static Task<PushResult> PushAsync(OciStore store, PushOptions options, params string[] queries) =>
        PushAsync(Mirror.Of(store), options, queries);

    /// <summary>Pushes the fixture tree to a registry, signed with <paramref name="key"/> (no key published).</summary>
    internal static Task<PushResult> PushSignedAsync(OciStore store, Org.BouncyCastle.Bcpg.OpenPgp.PgpSecretKey key,
        PushOptions options) =>
        PushAsync(Mirror.Of(store, signing: new SigningChoice(key, null)), options);

    internal static async Task<PushResult> PushAsync(Mirror mirror, PushOptions options, params string[] queries)
    {
        var db = await InstallDatabase.ReadAsync(TestData.Path(Tree12), cancellationToken: Token);
        var plan = PushSelection.Select(db, queries.Select(Depot.Specs.SpecQuery.Parse).ToList(),
            all: queries.Length == 0);
        return await PushOperation.RunAsync(mirror, db, plan, options, null, Token);
    }

    [Fact]
    public async Task DepotPushWritesSpacksImagesAndIndex()
    {
        using var store = NewRepository();
        var result = await PushAsync(store, new PushOptions(SpackPrefix: SpackPrefixOfFixture));
        Assert.Equal(5, result.Count(PushStatus.Pushed));
        Assert.Equal(PushLayout.Oci, result.Layout);

        foreach (var dir in Directory.EnumerateDirectories(TestData.Path("spack-1.2-oci/images"))
            .Where(d => !d.EndsWith("index.spack", StringComparison.Ordinal)))
        {
            var tag = Path.GetFileName(dir);
            var spackManifest = OciImageManifest.Parse(File.ReadAllBytes(Path.Combine(dir, "manifest.json")), tag);
            var ours = (await store.Registry.GetManifestAsync(tag, Token))!;
            var manifest = OciImageManifest.Parse(ours.Bytes, tag);
            Assert.Equal(OciMediaTypes.ImageManifest, ours.MediaType);
            Assert.Equal(spackManifest.Annotations, manifest.Annotations);
            Assert.Equal(spackManifest.Layers.Select(l => l.MediaType), manifest.Layers.Select(l => l.MediaType));
            Assert.Equal(spackManifest.Config.MediaType, manifest.Config.MediaType);

            // The same keys in the same order (Spack writes compact JSON with these keys), the same spec.
            using var spackConfig = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "config.json")));
            using var config = JsonDocument.Parse(await store.Registry.ReadBlobAsync(manifest.Config.Digest,
                manifest.Config.Size, 1 << 20, Token));
            Assert.Equal(spackConfig.RootElement.EnumerateObject().Select(p => p.Name),
                config.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(spackConfig.RootElement.GetProperty("spec").GetRawText()),
                JsonNode.Parse(config.RootElement.GetProperty("spec").GetRawText())), tag);
            Assert.Equal(3, config.RootElement.GetProperty("buildcache_layout_version").GetInt32());
            Assert.Equal(manifest.Layers[^1].Hex,
                config.RootElement.GetProperty("binary_cache_checksum").GetProperty("hash").GetString());

            // Layers by uncompressed content: identical tars to Spack's, except gcc-runtime (our tree keeps 2 of its
            // libraries).
            var spackDiffs = spackConfig.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray()
                .Select(e => e.GetString()).ToList();
            var ourDiffs = config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray()
                .Select(e => e.GetString()).ToList();
            Assert.Equal(spackDiffs.Count, ourDiffs.Count);
            var gccRuntimeFirst = spackManifest.Layers.Count > 1
                || tag.StartsWith("gcc-runtime", StringComparison.Ordinal);
            Assert.Equal(spackDiffs.Skip(gccRuntimeFirst ? 1 : 0), ourDiffs.Skip(gccRuntimeFirst ? 1 : 0));
        }

        var index = await new BuildCacheOci(store).ReadIndexBytesAsync(Token);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse(File.ReadAllBytes(TestData.Path("spack-1.2-oci/images/index.spack/index.json"))),
            JsonNode.Parse(index!.Value.Json)));

        var again = await PushAsync(store, new PushOptions());
        Assert.Equal(5, again.Count(PushStatus.SkippedExists)); // incremental: existing images are skipped
    }

    [Fact]
    public async Task SpackMadeCacheListsAndInstallsGreet()
    {
        await using var fixture = new SpackFixtureRegistry();
        await fixture.InitializeAsync();
        using var store = new OciStore(OciReference.Parse(fixture.Url("depot-fixtures")));
        var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Equal(["compiler-wrapper", "gcc-runtime", "greet", "greet-data", "libgreet"],
            listed.Rows.Select(r => r.Name).Order());

        // A full re-index by Depot writes the very index image Spack wrote (same manifest digest).
        var spacksIndex = (await store.Registry.HeadManifestAsync(BuildCacheOci.IndexTag, Token))!.Value.Digest;
        await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(Full: true), null, Token);
        Assert.Equal(spacksIndex,
            (await store.Registry.HeadManifestAsync(BuildCacheOci.IndexTag, Token))!.Value.Digest);

        // The repository leaves out gcc-runtime's 10 MiB layer: re-push gcc-runtime (same hash) from the committed
        // tree.
        var repushed = await PushAsync(store, new PushOptions(Force: true, UpdateIndex: false), "gcc-runtime");
        Assert.Equal(1, repushed.Count(PushStatus.Pushed));

        using var root = new TempDir();
        var result = await InstallOperationTests.InstallAsync(Mirror.Of(store, TrustPolicy.None("oci"), name: "oci"),
            new PlainRootTarget(root.Path), "greet");
        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        var greet = result.Outcomes.Single(o => o.Name == "greet").Prefix!;
        Assert.Equal("Hello, world.", InstallOperationTests.Run(Path.Combine(greet, "bin/greet")));
        Assert.Equal("Hello, Depot.", InstallOperationTests.Run(Path.Combine(greet, "bin/hello"), "Depot"));

        // Spack's images carry no signatures: a mirror that requires them refuses every entry, and says why.
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        var verify = await VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring, "oci")),
            new VerifyOptions([]), null, Token);
        Assert.Equal(5, verify.Failures.Count);
        Assert.All(verify.Failures, f => Assert.Contains("not signed", f.Message, StringComparison.Ordinal));

        // depot sign adds signatures beside Spack's images, which stay as they were.
        var before = await ImageDigestsAsync(store);
        var signed = await SignOperation.RunAsync(Mirror.Of(store), keyring.SigningKey(), force: false,
            cancellationToken: Token);
        Assert.Equal((5, 0), (signed.Signed, signed.AlreadySigned));
        Assert.Equal(before, await ImageDigestsAsync(store));
        verify = await VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring, "oci")),
            new VerifyOptions([]), null, Token);
        Assert.Equal((5, 0), (verify.Signed, verify.Failures.Count));
        Assert.Equal(5, (await SignOperation.RunAsync(Mirror.Of(store), keyring.SigningKey(), force: false,
            cancellationToken: Token)).AlreadySigned);
    }

    private static async Task<Dictionary<string, string>> ImageDigestsAsync(OciStore store)
    {
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var tag in store.Registry.ListTagsAsync(Token))
        {
            if (tag.EndsWith(".spack", StringComparison.Ordinal))
            {
                digests[tag] = (await store.Registry.HeadManifestAsync(tag, Token))!.Value.Digest;
            }
        }

        return digests;
    }

    [Fact]
    public async Task SignedImagesVerifyAndTamperedOnesAreRefused()
    {
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        using var store = NewRepository();
        await PushSignedAsync(store, keyring.SigningKey(), new PushOptions());
        var layouts = await BuildCache.DetectAsync(store, Token);
        var verify = await VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring, "oci")),
            new VerifyOptions([]), null, Token);
        Assert.Equal(5, verify.Signed);
        Assert.Empty(verify.Failures);

        // Spack's view is untouched: its tags are the five images and the index; signatures hang off the images'
        // digests.
        var tags = await store.Registry.ListTagsAsync(Token).ToListAsync(Token);
        Assert.Equal(6, tags.Count(t => t.EndsWith(".spack", StringComparison.Ordinal)));
        Assert.Equal(5,
            tags.Count(t => t.StartsWith("sha256-", StringComparison.Ordinal)
                && t.EndsWith(".sig", StringComparison.Ordinal)));

        // 1. A signature whose text was altered.
        var image = await new BuildCacheOci(store).ReadImageAsync(Greet, Token);
        var signature = (await OciSignatures.FindAsync(store.Registry, image.ManifestDigest, Token))!.Value.Text;
        await OciSignatures.PublishAsync(store.Registry,
            new OciDescriptor(OciMediaTypes.ImageManifest, image.ManifestDigest, image.ManifestSize),
            signature.Replace("\"greet\"", "\"gre3t\"", StringComparison.Ordinal), Token);
        verify = await VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring, "oci")),
            new VerifyOptions([]), null, Token);
        Assert.Contains("greet-1.0.0/ilccysm", Assert.Single(verify.Failures).Message, StringComparison.Ordinal);

        // 2. An image whose tarball layer was swapped (the manifest changes, so its signature no longer applies).
        var libgreet = await new BuildCacheOci(store)
            .ReadImageAsync("libgreet-1.0.0-45qqyrdm2lgdwkith6pdxfyacbtymalw.spack", Token);
        var swapped = image.Manifest with { Layers = [.. image.Manifest.Layers.SkipLast(1), libgreet.Tarball] };
        await store.Registry.PutManifestAsync(Greet, swapped.ToJsonBytes(), Token);
        verify = await VerifyOperation.RunAsync(Mirror.Of(store, TestData.Trusting(keyring, "oci")),
            new VerifyOptions([]), null, Token);
        Assert.Contains("not signed", Assert.Single(verify.Failures).Message, StringComparison.Ordinal);
        verify = await VerifyOperation.RunAsync(Mirror.Of(store, TrustPolicy.None("oci")), new VerifyOptions([]), null,
            Token);
        Assert.Contains("last layer", Assert.Single(verify.Failures).Message,
            StringComparison.Ordinal); // even unsigned, the checksums disagree

        using var root = new TempDir();
        var install = await InstallOperationTests.InstallAsync(Mirror.Of(store, TestData.Trusting(keyring, "oci"),
            name: "oci"), new PlainRootTarget(root.Path), "greet");
        Assert.Equal(InstallStatus.Failed, install.Outcomes.Single(o => o.Name == "greet").Status);
    }

    [Fact]
    public async Task PushingASpecWhoseDependenciesAreNotInTheRegistrySaysWhatToPush()
    {
        using var store = NewRepository();
        var db = await InstallDatabase.ReadAsync(TestData.Path(Tree12), cancellationToken: Token);
        var plan = PushSelection.Select(db, [Depot.Specs.SpecQuery.Parse("greet")], all: false, PushParts.Package);
        var result = await PushOperation.RunAsync(Mirror.Of(store), db, plan, new PushOptions(UpdateIndex: false),
            null, Token);
        var greet = Assert.Single(result.Outcomes, o => o.Name == "greet");
        Assert.Equal(PushStatus.Failed, greet.Status);
        Assert.Contains("push it too", greet.Reason, StringComparison.Ordinal);
        Assert.Null(await store.Registry.HeadManifestAsync(Greet, Token)); // no image names layers the registry lacks
    }
}
