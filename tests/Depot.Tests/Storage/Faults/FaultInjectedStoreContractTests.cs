using Depot.Storage;
using Depot.Storage.Faults;

namespace Depot.Tests.Storage.Faults;

/// <summary>
/// The store contract, met by a directory store behind a <see cref="FaultInjectingStore"/> failing a quarter of its
/// requests (every default kind: throttling, server errors, timeouts, resets, cut bodies, slow bodies, lost answers)
/// inside a <see cref="RetryingStore"/>: retried, every read, list and write behaves as on a store that never fails.
/// Two seeds, as two classes.
/// </summary>
public abstract class FaultInjectedStoreContractTests(int seed) : StoreContractTests
{
    /// <summary>Quick retries, so the suite stays fast: 8 tries, 1 ms doubling to 20 ms.</summary>
    internal static readonly StoreRetryPolicy QuickRetries =
        new(8, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(20));

    private readonly TempDir temp = new();

    protected override IObjectStore CreateStore() => new RetryingStore(
        new FaultInjectingStore(new LocalDirectoryStore(temp.Path), new FaultPlan(seed, 0.25)), QuickRetries);

    public override async ValueTask DisposeAsync()
    {
        temp.Dispose();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class FaultInjectedStoreContractSeed1Tests() : FaultInjectedStoreContractTests(1);

public sealed class FaultInjectedStoreContractSeed2Tests() : FaultInjectedStoreContractTests(2);

/// <summary>The store contract over S3 (s3rver) behind the fault-injecting store: the SDK's own retries never see
/// these faults (they come from above it), so the engine's retries alone make up for them.</summary>
public sealed class FaultInjectedS3StoreContractTests(S3rver server) : StoreContractTests, IClassFixture<S3rver>
{
    protected override IObjectStore CreateStore() => new RetryingStore(new FaultInjectingStore(
        new Depot.Storage.S3.S3Store(S3rver.Bucket, "faults-" + Guid.NewGuid().ToString("N")[..8],
            new Depot.Storage.S3.S3StoreOptions(server.Endpoint, "S3RVER", "S3RVER")), new FaultPlan(3, 0.25)),
        FaultInjectedStoreContractTests.QuickRetries);
}
