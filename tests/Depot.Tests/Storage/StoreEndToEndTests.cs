using Depot.Configuration;
using Depot.InstallTree;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;
using Depot.Storage.Azure;
using Depot.Storage.Gcs;
using Depot.Storage.S3;

namespace Depot.Tests.Storage;

/// <summary>
/// Push, index, list, verify and install through one store, unchanged operations: every writable store runs this.
/// </summary>
public abstract class StoreEndToEndTests
{
    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    protected abstract IObjectStore CreateStore();

    [Fact]
    public async Task PushIndexListVerifyInstall()
    {
        var store = CreateStore();
        using var home = new TempDir();
        var keyring = TestData.FixtureKeyring(home.Path);
        var secret = keyring.SigningKey();
        var fingerprint = SignatureVerifier.Fingerprint(secret.PublicKey);
        var db = await InstallDatabase.ReadAsync(TestData.Path("spack-1.2/install-tree"), cancellationToken: Token);
        var plan = PushSelection.Select(db, [SpecQuery.Parse("greet")], all: false);
        var pushed = await PushOperation.RunAsync(Mirror.Of(store, signing: new SigningChoice(secret, null)), db, plan,
            new PushOptions(UpdateIndex: false), null,
            Token);
        Assert.Equal(3, pushed.Count(PushStatus.Pushed));

        var indexed = Assert.Single(await IndexOperation.RunAsync(Mirror.Of(store), new IndexOptions(), null, Token));
        Assert.Equal(3, indexed.Specs);
        await new BuildCacheV3(store)
            .PublishKeysAsync([new PublishedKey(fingerprint, keyring.ExportPublic(fingerprint), fingerprint)], Token);

        var listed = await ListOperation.RunAsync(Mirror.Of(store), new ListOptions([]), null, Token);
        Assert.Equal(["gcc-runtime", "greet", "libgreet"],
            listed.Rows.Select(r => r.Name).Order(StringComparer.Ordinal));

        var trust = TestData.Trusting(keyring, store.Root);
        var verified = await VerifyOperation.RunAsync(Mirror.Of(store, trust), new VerifyOptions([]), null, Token);
        Assert.Empty(verified.Failures);
        Assert.Equal(3, verified.Signed);

        using var root = new TempDir();
        var installed = await InstallOperation.RunAsync([Mirror.Of(store, trust, name: store.Root)],
            [SpecQuery.Parse("greet")],
            new InstallOptions(new PlainRootTarget(root.Path)), null, Token);
        Assert.False(installed.AnyFailed, string.Join("; ", installed.Outcomes.Select(o => o.Reason)));
        var greet = installed.Outcomes.Single(o => o.Name == "greet").Prefix!;
        Assert.Equal("Hello, world.",
            Depot.Tests.Operations.InstallOperationTests.Run(Path.Combine(greet, "bin/greet")));
    }
}

public sealed class LocalEndToEndTests : StoreEndToEndTests, IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    protected override IObjectStore CreateStore() => new LocalDirectoryStore(temp.Path);
}

public sealed class S3EndToEndTests(S3rver server) : StoreEndToEndTests, IClassFixture<S3rver>
{
    protected override IObjectStore CreateStore() =>
        new S3Store(S3rver.Bucket, "e2e-" + Guid.NewGuid().ToString("N")[..8],
            new S3StoreOptions(server.Endpoint, "S3RVER", "S3RVER"));
}

public sealed class GcsEndToEndTests(FakeGcsServer server) : StoreEndToEndTests, IClassFixture<FakeGcsServer>
{
    protected override IObjectStore CreateStore() =>
        new GcsStore("depot-test", "e2e-" + Guid.NewGuid().ToString("N")[..8],
            endpoint: server.BaseUri + "/storage/v1/", anonymous: true);
}

public sealed class AzureEndToEndTests(Azurite server) : StoreEndToEndTests, IClassFixture<Azurite>
{
    protected override IObjectStore CreateStore() =>
        new AzureBlobStore("devstoreaccount1", "depot-e2e", "e2e-" + Guid.NewGuid().ToString("N")[..8],
            server.ConnectionString);
}
