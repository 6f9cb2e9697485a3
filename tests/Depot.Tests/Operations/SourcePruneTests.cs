using System.Security.Cryptography;
using Depot.Operations;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// Prune's source-mirror half: strays under <c>_source-cache/</c> (keys Spack never writes) older than the grace
/// period go; archives and checkouts at well-formed keys stay; a mirror holding only sources is pruned too.
/// </summary>
public sealed class SourcePruneTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Task<PruneResult> PruneAsync(string root, bool apply) =>
        PruneOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(root)), new PruneOptions(Apply: apply), null,
            Token);

    private static string Plant(string root, string key, byte[] content, TimeSpan age)
    {
        var path = Path.Combine(root, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return key;
    }

    private static (string Archive, string Checkout, string[] Strays, string YoungStray) PlantSources(string root)
    {
        var bytes = "source tarball"u8.ToArray();
        var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var old = TimeSpan.FromHours(3);
        var archive = Plant(root, $"_source-cache/archive/{hex[..2]}/{hex}.tar.gz", bytes, old);
        var checkout = Plant(root, "_source-cache/git/example.org/repo.git/abc123.tar.gz", bytes, old);
        string[] strays =
        [
            Plant(root, "_source-cache/notes.txt", bytes, old),
            Plant(root, "_source-cache/archive/zz/not-a-digest.tar.gz", bytes, old),
        ];
        var young = Plant(root, "_source-cache/archive/xx/uploading.part", bytes, TimeSpan.FromMinutes(5));
        return (archive, checkout, strays, young);
    }

    [Fact]
    public async Task StraysOlderThanTheGracePeriodGoAndWellFormedSourcesStayBesideABuildCache()
    {
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var (archive, checkout, strays, young) = PlantSources(mirror.Path);

        var dry = await PruneAsync(mirror.Path, apply: false);
        var planned = dry.Items.Where(i => i.Reason == PruneReason.StraySource).SelectMany(i => i.Keys).Order()
            .ToList();
        Assert.Equal(strays.Order().ToList(), planned);
        Assert.All(strays, k => Assert.True(File.Exists(Path.Combine(mirror.Path, k))));
        Assert.Equal("stray-source", dry.Items.First(i => i.Reason == PruneReason.StraySource).ReasonName);

        var applied = await PruneAsync(mirror.Path, apply: true);

        Assert.Equal(strays.Order().ToList(), applied.Items.Where(i => i.Reason == PruneReason.StraySource)
            .SelectMany(i => i.Keys).Order().ToList());
        Assert.All(strays, k => Assert.False(File.Exists(Path.Combine(mirror.Path, k))));
        foreach (var kept in new[] { archive, checkout, young })
        {
            Assert.True(File.Exists(Path.Combine(mirror.Path, kept)), kept);
        }

        // What verify says of what stays (the young stray is still a key Spack never writes: verify names it).
        File.Delete(Path.Combine(mirror.Path, young));
        var verified = await VerifyOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path),
            Depot.Signing.TrustPolicy.None("m")), new VerifyOptions([]), null, Token);
        Assert.True(verified.Ok, string.Join("; ", verified.Failures.Concat(verified.Sources?.Failures ?? [])
            .Select(f => f.Message)));
        Assert.Equal(1, verified.Sources!.Checked);
    }

    [Fact]
    public async Task AMirrorHoldingOnlySourcesIsPruned()
    {
        using var mirror = new TempDir();
        var (archive, _, strays, _) = PlantSources(mirror.Path);

        var applied = await PruneAsync(mirror.Path, apply: true);

        Assert.Equal(strays.Order().ToList(), applied.Items.SelectMany(i => i.Keys).Order().ToList());
        Assert.True(File.Exists(Path.Combine(mirror.Path, archive)));
    }
}
