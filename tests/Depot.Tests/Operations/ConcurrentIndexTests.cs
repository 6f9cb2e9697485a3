using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Operations;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>Two index updates at once: the one that writes second redoes its work on top of the first, losing
/// nothing.</summary>
public class ConcurrentIndexTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(TestData.V3Unsigned,
        "v3/manifests/spec/greet-data/greet-data-1.0.0-peahnwn7aa2lc5t6iese4dp7o7jjbnwu.spec.manifest.json")]
    [InlineData(TestData.V2Unsigned,
        "build_cache/linux-debian12-x86_64-gcc-12.2.0-greet-data-1.0.0-zi66hh25uj52mbypxnkvycwkkbwphquj.spec.json")]
    public async Task AnIndexWrittenMeanwhileIsNotOverwritten(string fixture, string lateEntry)
    {
        using var copy = TestData.Copy(fixture);
        foreach (var index in new[] { "v3/manifests/index/index.manifest.json", "build_cache/index.json",
            "build_cache/index.json.hash" })
        {
            if (File.Exists(Path.Combine(copy.Path, index)))
            {
                File.Delete(Path.Combine(copy.Path, index));
            }
        }

        // Writer A starts without greet-data's entry; just before A writes, writer B indexes the mirror with it.
        var entry = Path.Combine(copy.Path, lateEntry);
        File.Move(entry, entry + ".hidden");
        var inner = new LocalDirectoryStore(copy.Path);
        var raced = false;
        var store = new RacingStore(inner, async () =>
        {
            raced = true;
            File.Move(entry + ".hidden", entry);
            await IndexOperation.RunAsync(Mirror.Of(inner), new IndexOptions(), null, Token);
        });

        var results = await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null, Token);
        Assert.True(raced);
        Assert.Equal(2, store.ConditionalWrites); // the first lost to B, the second went through
        var layout = (await BuildCache.DetectAsync(inner, Token))[0];
        var written = (await layout.ReadIndexAsync(Token))!;
        Assert.Contains(written.CachedSpecs, s => s.Name == "greet-data");
        Assert.Equal(Single(results).Specs, written.CachedSpecs.Count());
    }

    private static IndexResult Single(IReadOnlyList<IndexResult> results) => Assert.Single(results);

    /// <summary>Runs <c>race</c> once, right before the first conditional write, as a concurrent writer
    /// would.</summary>
    private sealed class RacingStore(IObjectStore inner, Func<Task> race) : IObjectStore
    {
        private Func<Task>? pending = race;

        public int ConditionalWrites { get; private set; }

        public string Root => inner.Root;

        public bool ConditionalWritesAreAtomic => inner.ConditionalWritesAreAtomic;

        public string Describe(string key) => inner.Describe(key);

        public IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
            inner.ListAsync(prefix, cancellationToken);

        public Task<StoreObject?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
            inner.GetInfoAsync(key, cancellationToken);

        public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) =>
            inner.OpenReadAsync(key, cancellationToken);

        public Task WriteAsync(string key, Stream content, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(key, content, cancellationToken);

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
            inner.DeleteAsync(key, cancellationToken);

        public async Task<bool> WriteIfUnchangedAsync(string key, Stream content, string? expectedVersion,
            CancellationToken cancellationToken = default)
        {
            ConditionalWrites++;
            if (Interlocked.Exchange(ref pending, null) is { } run)
            {
                await run();
            }

            return await inner.WriteIfUnchangedAsync(key, content, expectedVersion, cancellationToken);
        }
    }
}
