using Depot.Layout;

namespace Depot.Tests.Layout;

public class IndexSnapshotTableTests
{
    private static readonly byte[] Index = System.Text.Encoding.UTF8.GetBytes(
        "{\"database\":{\"version\":\"8\",\"installs\":{"
        + "\"aaaa\":{\"spec\":{\"name\":\"a\",\"hash\":\"aaaa\"},\"ref_count\":2,\"in_buildcache\":false},"
        + "\"bbbb\":{\"spec\":{\"name\":\"b\",\"dependencies\":[{\"name\":\"a\",\"hash\":\"aaaa\"}],\"hash\":\"bbbb\"},"
        + "\"ref_count\":0,\"in_buildcache\":true},"
        + "\"cccc\":{\"spec\":{\"name\":\"c\",\"dependencies\":[{\"name\":\"a\",\"hash\":\"aaaa\"},{\"name\":\"z\","
        + "\"hash\":\"zzzz\"}],\"hash\":\"cccc\"},\"ref_count\":0,\"in_buildcache\":true}}}}");

    [Fact]
    public void ASavedTableLoadsTheSameRecordsWithSharedHashes()
    {
        var read = IndexSnapshot.Read(Index, "index");
        using var saved = new MemoryStream();
        read.SaveTable(saved);
        saved.Position = 0;
        var loaded = IndexSnapshot.LoadTable(saved, Index, "index")!;
        Assert.Equal(read.Order, loaded.Order);
        foreach (var hash in read.Order)
        {
            var (r, l) = (read.Find(hash)!, loaded.Find(hash)!);
            Assert.Equal((r.SpecStart, r.SpecLength, r.RefCount, r.InBuildcache), (l.SpecStart, l.SpecLength,
                l.RefCount, l.InBuildcache));
            Assert.Equal(r.Dependencies, l.Dependencies);
            Assert.Equal(read.SpecBytes(r).ToArray(), loaded.SpecBytes(l).ToArray());
        }

        // A dependency on an earlier record is that record's own hash string; one on no record (zzzz) is kept as text.
        Assert.Same(loaded.Order[0], loaded.Find("cccc")!.Dependencies[0]);
        Assert.Same(read.Order[0], read.Find("bbbb")!.Dependencies[0]);
        Assert.Equal("zzzz", loaded.Find("cccc")!.Dependencies[1]);
    }

    [Fact]
    public void ATableOfOtherBytesIsNotUsed()
    {
        using var saved = new MemoryStream();
        IndexSnapshot.Read(Index, "index").SaveTable(saved);
        saved.Position = 0;
        Assert.Null(IndexSnapshot.LoadTable(saved, [.. Index, .. " "u8.ToArray()], "index"));
    }
}
