using System.Diagnostics;
using Depot.Storage;
using Depot.Storage.Faults;
using Depot.Storage.Providers;

namespace Depot.Tests.Storage.Faults;

/// <summary>
/// The fault-injecting store and the engine's answer to it (<see cref="RetryingStore"/>,
/// <see cref="StoreRetryPolicy"/>): broken bodies resumed, lost answers resolved, uploads reset leaving nothing,
/// <c>Retry-After</c> obeyed within bounds, and what cannot be retried reported in one line.
/// </summary>
public sealed class FaultInjectingStoreTests : IDisposable
{
    private readonly TempDir temp = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => temp.Dispose();

    [Fact]
    public void TheVariableNamesASeedARateAndKinds()
    {
        var plan = FaultPlan.Parse("42:0.1");
        Assert.Equal((42, 0.1, FaultKinds.Default), (plan.Seed, plan.Rate, plan.Kinds));
        Assert.Equal(FaultKinds.Throttle | FaultKinds.Reset, FaultPlan.Parse("7:1:throttle,RESET").Kinds);
        foreach (var wrong in new[] { "42", "x:0.1", "1:1.5", "1:0.1:earthquake", "1:0.1:" })
        {
            var e = Assert.Throws<DepotException>(() => FaultPlan.Parse(wrong));
            Assert.Equal(ErrorKind.Usage, e.Kind);
            Assert.StartsWith($"DEPOT_FAULTS='{wrong}' is not SEED:RATE", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void StoresOpenedUnderTheVariableFailAndRetryOnlyThen()
    {
        var plain = StoreProviders.Builtin.Open(temp.Path);
        Assert.IsType<LocalDirectoryStore>(plain);
        var faulty = StoreProviders.Builtin.WithEnvironment(EnvironmentVariables.From(
            [new KeyValuePair<string, string>("DEPOT_FAULTS", "3:0.5:throttle")])).Open(temp.Path);
        var retrying = Assert.IsType<RetryingStore>(faulty);
        var injecting = Assert.IsType<FaultInjectingStore>(retrying.Inner);
        Assert.Equal((3, 0.5, FaultKinds.Throttle), (injecting.Plan.Seed, injecting.Plan.Rate, injecting.Plan.Kinds));
    }

    [Theory]
    [InlineData(FaultKinds.Reset)]
    [InlineData(FaultKinds.Truncate)]
    [InlineData(FaultKinds.Timeout)]
    [InlineData(FaultKinds.Slow)]
    public async Task BodiesBrokenMidStreamAreResumedWhole(FaultKinds kind)
    {
        var content = new byte[300_000];
        new Random(5).NextBytes(content);
        await new LocalDirectoryStore(temp.Path).WriteAllBytesAsync("blobs/sha256/ab/big", content, Token);
        var plan = new FaultPlan(11, 0.6, kind);
        var store = new RetryingStore(new FaultInjectingStore(new LocalDirectoryStore(temp.Path), plan),
            FaultInjectedStoreContractTests.QuickRetries);

        using var read = new MemoryStream();
        await using (var body = await store.OpenReadAsync("blobs/sha256/ab/big", Token))
        {
            await body.CopyToAsync(read, Token);
        }

        Assert.Equal(content, read.ToArray());
        await using (var part = await store.OpenReadRangeAsync("blobs/sha256/ab/big", 1000, 200_000, Token))
        {
            using var range = new MemoryStream();
            await part.CopyToAsync(range, Token);
            Assert.Equal(content.AsSpan(1000, 200_000).ToArray(), range.ToArray());
        }

        Assert.True(plan.Injected.GetValueOrDefault(kind) > 0, "no fault was injected");
    }

    [Fact]
    public async Task AnUploadResetMidWayLeavesNothingVisibleAndIsSentAgain()
    {
        var content = new byte[200_000];
        new Random(3).NextBytes(content);
        var plan = new FaultPlan(1, 1, FaultKinds.Reset);
        var injecting = new FaultInjectingStore(new LocalDirectoryStore(temp.Path), plan);

        var e = await Assert.ThrowsAsync<TransientStoreException>(() =>
            injecting.WriteAllBytesAsync("blobs/sha256/cd/up", content, Token));
        Assert.Contains("reset while uploading", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Empty(Directory.EnumerateFiles(temp.Path, "*", SearchOption.AllDirectories));

        var retrying = new RetryingStore(new FaultInjectingStore(new LocalDirectoryStore(temp.Path),
            new FaultPlan(1, 0.5, FaultKinds.Reset)), FaultInjectedStoreContractTests.QuickRetries);
        await retrying.WriteAllBytesAsync("blobs/sha256/cd/up", content, Token);
        Assert.Equal(content, await new LocalDirectoryStore(temp.Path).ReadAllBytesAsync("blobs/sha256/cd/up",
            cancellationToken: Token));
    }

    [Fact]
    public async Task AConditionalWriteWhoseAnswerWasLostStillCountsAsWritten()
    {
        var plan = new FaultPlan(2, 1, FaultKinds.LostResponse);
        var store = new RetryingStore(new FaultInjectingStore(new LocalDirectoryStore(temp.Path), plan),
            new StoreRetryPolicy(2, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1)));

        // The first try lands and its answer is lost; the second finds the object changed — to this very content.
        Assert.True(await store.WriteIfUnchangedAsync("index.json", new MemoryStream("new"u8.ToArray()), null, Token));
        Assert.Equal("new"u8.ToArray(), await new LocalDirectoryStore(temp.Path).ReadAllBytesAsync("index.json",
            cancellationToken: Token));
        // Another writer's content is not taken for ours.
        Assert.False(await store.WriteIfUnchangedAsync("index.json", new MemoryStream("other"u8.ToArray()), null,
            Token));
        Assert.True(plan.Injected[FaultKinds.LostResponse] >= 1);
    }

    [Fact]
    public async Task RequestsThatKeepFailingEndInOneLineNamingTheObjectAndTheTries()
    {
        await new LocalDirectoryStore(temp.Path).WriteAllTextAsync("v3/layout.json", "{}", Token);
        var store = new RetryingStore(new FaultInjectingStore(new LocalDirectoryStore(temp.Path),
            new FaultPlan(4, 1, FaultKinds.ServerError)),
            new StoreRetryPolicy(3, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1)));

        var e = await Assert.ThrowsAsync<TransientStoreException>(() =>
            store.ReadAllBytesAsync("v3/layout.json", 1 << 20, Token));
        Assert.Equal(ErrorKind.IO, e.Kind);
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith(store.Describe("v3/layout.json") + ": HTTP 500 Internal Server Error", e.Message,
            StringComparison.Ordinal);
        Assert.EndsWith("(injected by DEPOT_FAULTS) (gave up after 3 tries)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetryAfterIsObeyedUpToThirtySecondsAndALongerOneReportedAtOnce()
    {
        var policy = new StoreRetryPolicy(3, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1));
        var tries = 0;
        var clock = Stopwatch.StartNew();
        Assert.Equal(2, await policy.RunAsync(attempt => ++tries == 1
            ? throw new TransientStoreException("s3://b/k", "HTTP 503 Slow Down", TimeSpan.FromMilliseconds(150))
            : Task.FromResult(attempt), "s3://b/k", Token));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(140), $"waited only {clock.Elapsed}");

        tries = 0;
        var e = await Assert.ThrowsAsync<TransientStoreException>(() => policy.RunAsync<int>(_ =>
        {
            tries++;
            throw new TransientStoreException("s3://b/k", "HTTP 429 Too Many Requests", TimeSpan.FromMinutes(2));
        }, "s3://b/k", Token));
        Assert.Equal(1, tries);
        Assert.Equal("s3://b/k: HTTP 429 Too Many Requests; the service asks to retry after 120 s, longer than the "
            + "30 s Depot waits: try again later", e.Message);
    }

    [Fact]
    public async Task CancellingStopsTheWaitAtOnce()
    {
        var policy = new StoreRetryPolicy(3, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(20));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(100));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => policy.RunAsync<int>(
            _ => throw new TransientStoreException("x", "timed out"), "x", cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task LocalFailuresAndOtherStoreErrorsAreNotRetried()
    {
        var policy = new StoreRetryPolicy(5, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1));
        var tries = 0;
        await Assert.ThrowsAsync<IOException>(() => policy.RunAsync<int>(_ =>
        {
            tries++;
            throw new IOException("No space left on device");
        }, "x", Token));
        await Assert.ThrowsAsync<StoreObjectNotFoundException>(() => policy.RunAsync<int>(_ =>
        {
            tries++;
            throw new StoreObjectNotFoundException("x");
        }, "x", Token));
        Assert.Equal(2, tries);
    }
}
