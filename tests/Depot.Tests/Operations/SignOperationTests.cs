using Depot.Operations;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>Signing a mirror that holds a corrupt entry: that entry is one problem, the others are signed.</summary>
public class SignOperationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ACorruptManifestIsOneSkippedEntryLeftAsItWasAndTheOthersAreSigned()
    {
        using var home = new TempDir();
        using var mirror = TestData.InstallableV3(TestData.V3Unsigned);
        var keyring = TestData.FixtureKeyring(home.Path);
        var manifests = Directory.GetFiles(mirror.Combine("v3", "manifests", "spec"), "*.spec.manifest.json",
            SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(5, manifests.Count);
        var corrupt = manifests[0];
        await File.WriteAllTextAsync(corrupt, "{\"mediaType\": ", Token);

        var result = await SignOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path)),
            keyring.SigningKey(), force: false, parallelism: 2, cancellationToken: Token);

        Assert.Equal((4, 0), (result.Signed, result.AlreadySigned));
        var problem = Assert.Single(result.Problems);
        Assert.Contains(Path.GetFileName(corrupt), problem.Location, StringComparison.Ordinal);
        Assert.StartsWith("skipped entry: ", problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem.Message);
        Assert.Equal("{\"mediaType\": ", await File.ReadAllTextAsync(corrupt, Token));
        foreach (var other in manifests.Skip(1))
        {
            Assert.Contains("-----BEGIN PGP SIGNED MESSAGE-----", await File.ReadAllTextAsync(other, Token),
                StringComparison.Ordinal);
        }
    }
}
