using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>Checks that a local mirror left behind by an interrupted operation is whole.</summary>
internal static class MirrorState
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>
    /// Asserts that <paramref name="mirror"/> holds no temporary object (the write lock aside), that every entry
    /// verifies (spec checksum, tarball size and sha256; signatures under <paramref name="trust"/>, else none
    /// required), and that listing it (its index when there is one) names exactly the entries there. Returns how
    /// many entries it holds (0 when no entry and no layout was written).
    /// </summary>
    public static async Task<int> AssertWholeAsync(string mirror, TrustPolicy? trust = null)
    {
        var files = Directory.Exists(mirror)
            ? Directory.EnumerateFiles(mirror, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(mirror, f)).ToList()
            : [];
        Assert.DoesNotContain(files, f => Path.GetFileName(f).StartsWith(".depot-tmp-", StringComparison.Ordinal)
            && Path.GetFileName(f) != ".depot-tmp-write.lock");
        // Blobs go up before the manifest naming them: unreferenced content-addressed blobs are all a cancelled
        // first entry may leave, and no reader sees them.
        if (files.All(f => Path.GetFileName(f).StartsWith(".depot-tmp-", StringComparison.Ordinal)
            || f.StartsWith("blobs/", StringComparison.Ordinal)))
        {
            return 0;
        }

        var store = new LocalDirectoryStore(mirror);
        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, trust ?? TrustPolicy.None(mirror)),
            new VerifyOptions([]), null, Token);
        Assert.True(verified.Ok, string.Join("\n", verified.Failures.Select(f => f.Message)));
        var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Empty(listed.Problems);
        Assert.Equal(verified.Checked, listed.Rows.Count);
        return verified.Checked;
    }
}
