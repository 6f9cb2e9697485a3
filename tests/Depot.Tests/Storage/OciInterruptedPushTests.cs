using Depot.Layout;
using Depot.Operations;
using Depot.Storage.Oci;

namespace Depot.Tests.Storage;

/// <summary>A push to a registry killed (SIGKILL, a real process) during a layer upload leaves no image naming missing
/// layers.</summary>
public sealed class OciInterruptedPushTests(DockerRegistry registry) : IClassFixture<DockerRegistry>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KilledDuringAnUploadLeavesNoImageAndTheNextPushCompletes()
    {
        using var tree = new TempDir();
        var (small, big) = KilledPush.BuildTree(tree.Path, seed: 5);
        using var home = new TempDir();
        using var staging = new TempDir();
        var mirror = registry.Url("killed/r" + Guid.NewGuid().ToString("N")[..8]);
        await KilledPush.RunAndKillAsync(mirror, tree.Path, home.Path, staging.Path, new Dictionary<string, string>(),
            Token);

        // Images are written only once every layer is up: none exists, so no reader can meet a missing layer.
        using var store = new OciStore(OciReference.Parse(mirror));
        var tags = await store.Registry.ListTagsAsync(Token).ToListAsync(Token);
        Assert.DoesNotContain(tags, t => t.EndsWith(".spack", StringComparison.Ordinal));

        var db = await Depot.InstallTree.InstallDatabase.ReadAsync(tree.Path, cancellationToken: Token);
        var again = await PushOperation.RunAsync(Mirror.Of(store), db, Depot.InstallTree.PushSelection.Select(db, [],
            all: true), new PushOptions(), null,
            Token);
        Assert.False(again.AnyFailed, string.Join("; ", again.Outcomes.Select(o => o.Reason)));
        Assert.Equal(PushStatus.Pushed, again.Outcomes.Single(o => o.Hash == big).Status);
        Assert.Equal(PushStatus.Pushed,
            again.Outcomes.Single(o => o.Hash == small).Status); // its image was never written either
        var verify = await VerifyOperation.RunAsync(Mirror.Of(store, Depot.Signing.TrustPolicy.None("oci")),
            new VerifyOptions([]), null, Token);
        Assert.Equal((2, 0), (verify.Checked, verify.Failures.Count));
    }
}
