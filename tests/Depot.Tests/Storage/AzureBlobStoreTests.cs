using Depot.Operations;
using Depot.Storage;
using Depot.Storage.Azure;

namespace Depot.Tests.Storage;

/// <summary>The store contract against Azurite; every test gets its own prefix in one container.</summary>
public sealed class AzureBlobStoreTests(Azurite server) : StoreContractTests, IClassFixture<Azurite>
{
    protected override IObjectStore CreateStore() =>
        new AzureBlobStore("devstoreaccount1", "depot-test", "mirror-" + Guid.NewGuid().ToString("N")[..8],
            server.ConnectionString);

    [Fact]
    public async Task AMirrorPushedToAzureListsAndInstalls()
    {
        var store = new AzureBlobStore("devstoreaccount1", "depot-test", "pushed-" + Guid.NewGuid().ToString("N")[..8],
            server.ConnectionString);
        var db = await Depot.InstallTree.InstallDatabase.ReadAsync(TestData.Path("spack-0.21/install-tree"),
            cancellationToken: Token);
        var plan = Depot.InstallTree.PushSelection.Select(db, [], all: true);
        var pushed = await Depot.Operations.PushOperation.RunAsync(Mirror.Of(store, layout: PushLayout.V2), db, plan,
            new PushOptions(), null, Token);
        Assert.Equal(3, pushed.Count(Depot.Operations.PushStatus.Pushed));

        var listed = await Depot.Operations.ListOperation.RunAsync(Mirror.Of(store),
            new Depot.Operations.ListOptions([]), null, Token);
        Assert.Equal(3, listed.Rows.Count);
        using var root = new TempDir();
        var installed = await Depot.Operations.InstallOperation.RunAsync([Mirror.Of(store,
            Depot.Signing.TrustPolicy.None("azure"), name: "azure")],
            [Depot.Specs.SpecQuery.Parse("greet")],
                new Depot.Operations.InstallOptions(new Depot.Operations.PlainRootTarget(root.Path)), null, Token);
        Assert.False(installed.AnyFailed);
        var greet = installed.Outcomes.Single(o => o.Name == "greet").Prefix!;
        Assert.Equal("Hello, world.",
            Depot.Tests.Operations.InstallOperationTests.Run(Path.Combine(greet, "bin/greet")));
    }

    [Fact]
    public async Task AWrongAccountKeyIsRefusedForReadAndWriteNamingTheAccountNeverTheKey()
    {
        var wrongKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        var store = new AzureBlobStore("devstoreaccount1", "depot-test", "denied",
            server.ConnectionString.Replace(Azurite.AccountKey, wrongKey, StringComparison.Ordinal));
        var calls = new Func<Task>[]
        {
            () => store.ReadAllBytesAsync("v3/layout.json", cancellationToken: Token),
            () => store.WriteAllTextAsync("v3/layout.json", "{}", Token),
            () => ((IStoreLister)store).ListKeysAsync("v3/", Token).ToListAsync(Token).AsTask(),
        };
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<DepotException>(call);
            Assert.Equal(ErrorKind.Authentication, e.Kind);
            Assert.StartsWith("azure://devstoreaccount1/depot-test/denied/v3/", e.Message, StringComparison.Ordinal);
            Assert.Contains(": access denied (", e.Message, StringComparison.Ordinal);
            Assert.Contains(" for the connection string's key of account devstoreaccount1: ", e.Message,
                StringComparison.Ordinal);
            Assert.DoesNotContain(wrongKey, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
    }
}
